"""What other apps may hear from the people app."""

from django.dispatch import Signal

# Sent inside person_merge's transaction, after `merged_person_id`'s records moved to `survivor`
# (arguments: survivor, merged_person_id, actor). Apps whose rules count per person (contribution
# limits) check the survivor again.
person_merged = Signal()
