"""The Cards REST API client, its models and webhooks."""
