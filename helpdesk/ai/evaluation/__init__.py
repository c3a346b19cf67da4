"""Measuring a tenant's bot on questions with known answers: ``manage.py eval_bot``."""
