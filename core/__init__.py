"""The hub runtime: bus, states, services, entities, registries, config, loader, recorder, http."""
