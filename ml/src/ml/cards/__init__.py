"""Model cards of every kind: one base (``ml.cards.base.Card``), one schema (``card.schema.json``),
one digest, one weights-directory reader; each kind's card module adds its own section."""
