"""Marshmallow schemas: `inputs` validate what arrives, `outputs` shape what leaves."""
