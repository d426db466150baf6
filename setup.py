"""Map the repository root to the `plantpulse` package (DESIGN.md section 1)."""

from setuptools import find_packages, setup

SUBPACKAGES = find_packages(include=["core*", "integrations*", "automations*"])
DATA_FOLDERS = ["frontend", "config", "blueprints"]

setup(
    package_dir={"plantpulse": "."},
    packages=["plantpulse", *(f"plantpulse.{name}" for name in SUBPACKAGES)],
    package_data={
        "plantpulse": [f"{folder}/**/*" for folder in DATA_FOLDERS],
        "": ["*.yaml", "*.json", "*.csv"],
    },
    include_package_data=False,
)
