"""Reads that combine domains or both databases: an account with its documents, the export, a
lesson with its content and the learner's detail, my learning, achievements as others see
them, chat membership and conversation lists. Each asks both databases at once and degrades as
its docstring says when one is down; none writes."""
