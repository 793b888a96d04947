"""Render: Jinja2 pages with pure context builders, i18n, Markdown, theme, social previews."""
