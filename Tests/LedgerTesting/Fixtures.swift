public enum LedgerTestingPlaceholder {}
