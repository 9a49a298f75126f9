"""Build orchestration: plan → submit → wait → copy → report."""
