"""Contracts (合同): signing, milestones, amendments, termination, deliverables and payments."""
