"""Procurement: the guidance catalogue, budget lines, tenders, bids, panel scoring, award and
challenges (政府购买服务的指导性目录、预算与采购)."""
