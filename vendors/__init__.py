"""Vendors (承接主体): organisations as vendors, USCC, assessment grades, credit lists and rating."""
