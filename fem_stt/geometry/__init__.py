"""Gmsh geometry builders: layer stacks, simple bodies, surroundings with an open-boundary shell."""
from .ball import BALL_BOUNDARY, BallGeometry
from .builder import ShellGeometry
from .shapes import (AIR, BOTTOM_ELECTRODE, OUTER_BOUNDARY, SHELL, TOP_ELECTRODE, Body, CrossSection, Layer,
                     Surrounding, circle, ellipse, interface_name, rectangle)
from .stack import BodyGeometry, LayerStack, seed_device

__all__ = ["AIR", "BALL_BOUNDARY", "BallGeometry", "BOTTOM_ELECTRODE", "OUTER_BOUNDARY", "SHELL", "TOP_ELECTRODE", "Body", "BodyGeometry",
           "CrossSection", "Layer", "LayerStack", "ShellGeometry", "Surrounding", "circle", "ellipse",
           "interface_name", "rectangle", "seed_device"]
