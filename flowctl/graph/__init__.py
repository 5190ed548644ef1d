"""Flow diagrams (``flowctl graph``): Mermaid and Graphviz DOT text from a flow."""

from __future__ import annotations

from flowctl.graph.model import Edge, Graph, Node, build_graph
from flowctl.graph.render import to_dot, to_mermaid

__all__ = ["Edge", "Graph", "Node", "build_graph", "to_dot", "to_mermaid"]
