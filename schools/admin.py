"""Platform operators' admin for districts and their structure (bare domain only)."""

from django.contrib import admin

from schools.models import Classroom, District, School, YearGroup


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "custom_domain", "created_at"]
    search_fields = ["name", "slug", "custom_domain"]
    readonly_fields = ["logo_version", "created_at"]


@admin.register(School)
class SchoolAdmin(admin.ModelAdmin):
    list_display = ["name", "district", "code"]
    list_filter = ["district"]
    search_fields = ["name"]


@admin.register(YearGroup)
class YearGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "district", "ordinal", "grade_code", "next"]
    list_filter = ["district"]


@admin.register(Classroom)
class ClassroomAdmin(admin.ModelAdmin):
    list_display = ["name", "school", "district", "archived_at"]
    list_filter = ["district"]
    search_fields = ["name"]
    filter_horizontal = ["teachers"]
