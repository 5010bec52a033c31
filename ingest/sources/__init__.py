"""Archive sources: one class per archive type, all with the same shape."""
