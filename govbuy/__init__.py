"""govbuy: government purchase of services (政府购买服务).

The shell: a kernel every domain may use (settings, database, errors, auth, audit log,
clock and calendar, documents, reports) and a top layer that assembles the app.
"""
