"""Where the network looked: Grad-CAM for every finding from one forward pass."""
