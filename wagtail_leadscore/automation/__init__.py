"""Automation: rules that turn events into actions (send an email, notify sales, tag, set
the stage, wait), with triggers and actions as registries others extend."""
