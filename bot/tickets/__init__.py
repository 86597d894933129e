"""The ticket verbs: link, unlink, create, and fetch from an upstream system."""
