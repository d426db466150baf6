"""Map the repository root to the `plantpulse` package (DESIGN.md section 1)."""

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

SUBPACKAGES = find_packages(include=["core*", "integrations*", "automations*"])
DATA_FOLDERS = ["frontend", "config", "blueprints"]


class BuildPy(build_py):
    """Leave this file out of the installed `plantpulse` package: it sits in the same folder."""

    def find_package_modules(self, package, package_dir):
        modules = super().find_package_modules(package, package_dir)
        return [item for item in modules if (item[0], item[1]) != ("plantpulse", "setup")]


setup(
    package_dir={"plantpulse": "."},
    packages=["plantpulse", *(f"plantpulse.{name}" for name in SUBPACKAGES)],
    package_data={
        "plantpulse": [f"{folder}/**/*" for folder in DATA_FOLDERS],
        "": ["*.yaml", "*.json", "*.csv"],
    },
    include_package_data=False,
    cmdclass={"build_py": BuildPy},
)
