"""Demo and seed data: the top layer's two ways of filling a database.

- `year`: `govbuy demo`, one year of a district's purchase of services, made through the
  services the API calls, as the demo users, on the sandbox clock;
- `seed`: `govbuy seed`, synthetic data at scale for benchmarks, loaded set-based;
- `catalogue`: the guidance catalogue (指导性目录) that both load.

This is top-layer code (STYLE habit 14): like the app factory, the CLI and the public feed it
imports the domains, and nothing imports it but the CLI and the tests. It may read any table
for set-based work: the seed writes them directly, in bulk, as no request does; the demo
writes only through the services and reads a few tables to check that the database it fills is
empty and to count what it made. Nothing runs on import: the CLI registers each module's
command with its `register_commands`.
"""
