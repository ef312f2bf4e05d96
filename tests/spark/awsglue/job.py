"""Job: init and commit. Glue's commit saves job bookmarks, which sluice's jobs run without
(--job-bookmark-option job-bookmark-disable in the template); here it records that the run got that far."""

COMMITTED = []


class Job:
    def __init__(self, glue_context):
        self.glue_context = glue_context
        self.name = None

    def init(self, job_name, args=None):
        self.name = job_name

    def commit(self):
        COMMITTED.append(self.name)
