"""Agencies, users, roles, passwords, second factors and API tokens."""
