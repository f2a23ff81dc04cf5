"""The operator console (/console): pages over the API's own operations (docs/console.md)."""
