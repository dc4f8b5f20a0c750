"""Domain events: published in the PostgreSQL transaction of the change that caused them (an
outbox row of the saga log), dispatched by the relay to every subscriber, at least once; each
subscriber is idempotent per event id, so the effect is exactly once."""
