"""Third-party performance evaluation (第三方绩效评价): evaluator organisations, indicator
templates, evaluations of milestones, satisfaction surveys, appeals and reports."""
