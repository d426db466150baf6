"""Automations engine: triggers, conditions, actions, scripts, run modes, traces and blueprints.

The `automation` and `script` integrations are thin layers over this package: they validate
their YAML with the schemas here, compile it once into plain callables (`conditions.py`,
`actions.py`), and run it with `script.Script` (run modes, traces).

Trigger platforms
-----------------
A trigger platform is a module with two names:

    TRIGGER_SCHEMA: vol.Schema   # validates one trigger mapping (keys `platform`, `id`, ...)

    def async_attach_trigger(hub, config, action, info) -> Callable[[], None]:
        '''Start watching; call `action(trigger_vars, context)` each time it fires.

        `config` is the validated trigger, `info` a `triggers.TriggerInfo` (who attaches it,
        `trigger_data` with `id`/`idx`/`alias` to put first into `trigger_vars`, and the
        `variables` templates in the trigger may use). Returns a function that detaches it.
        '''

`trigger_vars` becomes the run's `trigger` variable: `{**info.trigger_data, "platform": ...,
"description": "...", ...platform fields}`. `context` is the Context of what caused it (a state
change's, an event's) or None. Built-in platforms live in `automations/triggers/<platform>.py`;
an integration adds one as `plantpulse.integrations.<platform>.trigger` (the mqtt integration's
`mqtt` trigger), found by that naming convention when an automation first uses it.
"""
