"""English names of months and days, without the locale (the server's may be anything)."""

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
MONTHS_SHORT = tuple(m[:3] for m in MONTHS)            # Jan … Sep … Dec
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DAYS_SHORT = tuple(d[:3] for d in DAYS)
