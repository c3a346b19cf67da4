"""A tiny app that exists only under tests.settings: tasks the suite can run on real workers."""
