"""Planning: the guidance catalogue (指导性目录) of what may be bought, and the budget lines a
purchase draws on (先有预算、后购买服务)."""
