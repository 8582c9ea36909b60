"""What we produce for people: the emails to buyers and staff, the purchase receipt, the police
report, and the unit labels. Each is built from rows the actions wrote; none writes a row."""
