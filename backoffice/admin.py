"""django-celery-beat's admin, registered again on unfold's ModelAdmin to match the back office."""

from django.contrib import admin, messages
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from kombu.exceptions import OperationalError
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action
from unfold.widgets import UnfoldAdminSelectWidget, UnfoldAdminTextInputWidget

BEAT_MODELS = [PeriodicTask, IntervalSchedule, CrontabSchedule, SolarSchedule, ClockedSchedule]
admin.site.unregister(BEAT_MODELS)


class TaskSelectWidget(UnfoldAdminSelectWidget, beat_admin.TaskSelectWidget):
    pass


class PeriodicTaskForm(beat_admin.PeriodicTaskForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Declared form fields skip the admin's formfield_overrides, so they get unfold's
        # widgets here; the model fields already have them.
        self.fields["regtask"].widget = TaskSelectWidget()
        self.fields["task"].widget = UnfoldAdminTextInputWidget()


@admin.register(PeriodicTask)
class PeriodicTaskAdmin(beat_admin.PeriodicTaskAdmin, ModelAdmin):
    form = PeriodicTaskForm

    # Viewing the schedule is not enough to change it: each action needs the change permission.
    @action(description="Enable selected tasks", permissions=["change"])
    def enable_tasks(self, request, queryset):
        super().enable_tasks(request, queryset)

    @action(description="Disable selected tasks", permissions=["change"])
    def disable_tasks(self, request, queryset):
        super().disable_tasks(request, queryset)

    @action(description="Toggle activity of selected tasks", permissions=["change"])
    def toggle_tasks(self, request, queryset):
        super().toggle_tasks(request, queryset)

    @action(description="Run now", permissions=["change"])
    def run_tasks(self, request, queryset):
        try:
            super().run_tasks(request, queryset)
        except OperationalError as error:
            self.message_user(request, f"The task queue is unreachable: {error}", messages.ERROR)


class PeriodicTaskInline(beat_admin.PeriodicTaskInline, TabularInline):
    pass


@admin.register(IntervalSchedule)
class IntervalScheduleAdmin(beat_admin.IntervalScheduleAdmin, ModelAdmin):
    inlines = [PeriodicTaskInline]


@admin.register(CrontabSchedule)
class CrontabScheduleAdmin(beat_admin.CrontabScheduleAdmin, ModelAdmin):
    inlines = [PeriodicTaskInline]


@admin.register(SolarSchedule)
class SolarScheduleAdmin(beat_admin.SolarScheduleAdmin, ModelAdmin):
    inlines = [PeriodicTaskInline]


@admin.register(ClockedSchedule)
class ClockedScheduleAdmin(beat_admin.ClockedScheduleAdmin, ModelAdmin):
    inlines = [PeriodicTaskInline]
