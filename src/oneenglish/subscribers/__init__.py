"""What happens when a domain event is dispatched (events.service.subscribe): subscribers of
the dispatch_event saga, each idempotent per event id. Imported with the workflows, so a
recovered event finds its subscribers (workflows.load_all)."""
