"""The role table (agents.roles) in templates: `{% if me|can:"set_targets" %}`, or the
role's own grant whoever holds it, `{% if me.role|role_can:"take_calls" %}`."""

from django import template

from agents import roles

register = template.Library()


@register.filter
def can(person, capability: str) -> bool:
    return bool(person) and roles.can(person, capability)


@register.filter
def role_can(role, capability: str) -> bool:
    return bool(role) and roles.role_can(role, capability)
