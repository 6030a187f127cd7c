from django.apps import AppConfig


class BulkactionsConfig(AppConfig):
    name = "bulkactions"
    verbose_name = "Imports and bulk actions"
