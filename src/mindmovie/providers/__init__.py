"""Providers: planner, keyframe and video models behind one protocol each."""
