"""Intelligence fusion: subjects from every source, prioritised targets, removal operations."""
