"""Side-by-side benchmark of opencwpp, Prowler and ScoutSuite on one emulated AWS estate."""
