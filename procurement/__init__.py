"""Procurement: tenders, bids, panel scoring, award and challenges (政府购买服务的采购)."""
