"""Speed of deltaflow against PyTorch CPU and scikit-learn (issue 6); run ``make bench``."""
