"""A template may call a helper that an integration set up after `template` registers."""

from __future__ import annotations

from tests.conftest import HubFactory

# Set up after template (it depends on it), so its helper does not exist yet when the
# template sensors are created.
LATE_HELPER = {
    "custom_integrations/shift_clock/manifest.yaml": (
        "domain: shift_clock\nname: Shift clock\nversion: '1.0'\ndependencies: [template]\n"
    ),
    "custom_integrations/shift_clock/__init__.py": (
        "from plantpulse.core.template import async_register_template_function\n"
        "async def async_setup(hub, config):\n"
        "    async_register_template_function(hub, 'current_shift', lambda: '甲班')\n"
        "    return True\n"
    ),
}


async def test_a_helper_registered_later_is_there_at_the_first_render(
    hub_factory: HubFactory,
) -> None:
    hub = await hub_factory(
        "shift_clock:\ntemplate:\n  - sensor:\n      - name: Shift\n"
        "        unique_id: shift\n        state: \"{{ current_shift() }}\"\n",
        extra_files=LATE_HELPER,
    )
    assert hub.states.get("sensor.shift").state == "甲班"
