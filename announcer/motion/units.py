"""The units the motion stage speaks in, for every module that reads or writes mouth shapes."""
MAX_GAP = 0.34
"""What `open = 1` means: an inner-lip gap of this many inter-ocular distances (a wide 'ah')."""
