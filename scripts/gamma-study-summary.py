#!/usr/bin/env python3
"""Summarises a γ sweep's job.json: RI₁ and RI₂ per γ, the crossover γ* where RI₁ = RI₂
(linear interpolation of RI₁ − RI₂ between the two γ values around its sign change, exactly as
the farm's relative_improvement.svg marks it), and RI₁/RI₂ at γ = 0.5.
   gamma-study-summary.py JOB.json [LABEL]"""
import json
import sys

manifest = json.load(open(sys.argv[1]))
label = sys.argv[2] if len(sys.argv) > 2 else manifest["job_id"]
points = []
sigmas = None
for task in manifest["tasks"]:
    gamma = next((p["value"] for p in task["parameters"] if p["name"] == "gamma"), None)
    ri = task.get("relativeImprovement")
    if gamma is None or not ri or len(ri) < 2:
        continue
    points.append((gamma, ri[0], ri[1]))
    sigmas = task.get("sigmas", sigmas)
points.sort()
print(f"{label}: σ = {sigmas}")
print("  γ      RI₁        RI₂        RI₁/RI₂")
for gamma, ri1, ri2 in points:
    print(f"  {gamma:4.2f}  {ri1:9.3f}  {ri2:9.3f}  {ri1 / ri2:8.3f}")
crossover = None
for (g0, a0, b0), (g1, a1, b1) in zip(points, points[1:]):
    d0, d1 = a0 - b0, a1 - b1
    if d0 == 0:
        crossover = g0
        break
    if d0 * d1 < 0:
        crossover = g0 + (g1 - g0) * d0 / (d0 - d1)
        break
half = next(((a / b) for g, a, b in points if abs(g - 0.5) < 1e-6), None)
print(f"  crossover γ* = {crossover if crossover is None else round(crossover, 3)}; "
      f"RI₁/RI₂ at γ = 0.5: {half if half is None else round(half, 3)}")
