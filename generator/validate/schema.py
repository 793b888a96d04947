"""Declarative field specs for every content file, and one validator that applies them.

Each entity is a table of `Field`s (name, kind, required, many, default, nested schema);
`validate()` turns a positioned YAML mapping into a plain dict of typed values plus located
diagnostics. Unknown keys are errors with a did-you-mean hint, because a misspelt `expires`
silently ignored would publish a credential that never expires.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Mapping

from ..diagnostics import Location, Report, did_you_mean
from ..load.positioned_yaml import YList, YMap
from . import values


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # str, text, int, number, bool, date, email, url, base_url, slug, duration, path, object
    required: bool = False
    many: bool = False
    default: Any = None
    schema: tuple["Field", ...] = ()
    choices: tuple[str, ...] = ()
    doc: str = ""


Schema = tuple[Field, ...]

_TYPE_NAMES = {"str": "text", "text": "text", "int": "a whole number", "number": "a number",
               "bool": "true or false", "object": "a mapping of keys", "path": "a file path"}

ACHIEVEMENT_TYPES = (
    "Achievement", "ApprenticeshipCertificate", "Assessment", "Assignment", "AssociateDegree", "Award",
    "Badge", "BachelorDegree", "Certificate", "CertificateOfCompletion", "Certification",
    "CommunityService", "Competency", "Course", "CoCurricular", "Degree", "Diploma", "DoctoralDegree",
    "Fieldwork", "GeneralEducationDevelopment", "JourneymanCertificate", "LearningProgram", "License",
    "Membership", "ProfessionalDoctorate", "QualityAssuranceCredential", "MasterCertificate",
    "MasterDegree", "MicroCredential", "ResearchDoctorate", "SecondarySchoolDiploma",
)

THEME: Schema = (
    Field("primary_color", "color", default="#1f4e79"),
    Field("accent_color", "color", default="#c8102e"),
    Field("logo", "path"),
)

# outgoing mail for `badgekiln notify` (password: env BADGEKILN_SMTP_PASSWORD)
SMTP: Schema = (
    Field("host", "str", required=True, doc="SMTP server name, e.g. smtp.example.org"),
    Field("port", "int", doc="default 587 (starttls), 465 (ssl) or 25 (none)"),
    Field("security", "str", default="starttls", choices=("starttls", "ssl", "none")),
    Field("username", "str", doc="login; the password comes from BADGEKILN_SMTP_PASSWORD"),
    Field("from", "str", doc="sender, e.g. Northwind Badges <badges@northwind.example> (default: the issuer's "
                             "email, in the site's name)"),
    Field("reply_to", "email"),
    Field("per_minute", "int", default=30, doc="rate limit for notify"),
)

# extra signed forms of each award (both need a signing key: badgekiln keys new)
SIGNING: Schema = (
    Field("vc_jwt", "bool", default=False, doc="also publish each OB 3.0 credential as a VC-JWT (RS256)"),
    Field("ob2_signed", "bool", default=False, doc="also publish OB 2.0 signed assertions (JWS, RS256)"),
    Field("credential_status", "str", default="single", choices=("single", "list"),
          doc="single: one W3C revocation entry (OB 3.0 and its JSON schema allow one); list: also "
              "suspension and 1EdTechRevocationList entries (VC 2.0; outside the OB 3.0 schema)"),
)

# static-host profiles (pipeline/hosts.py holds their limits; a test keeps the two lists equal)
HOSTS = ("github-pages", "cloudflare-pages", "cloudflare-pages-paid", "netlify", "gitlab-pages", "s3", "none")

SITE: Schema = (
    Field("title", "str", required=True, doc="shown in page titles and the index"),
    Field("base_url", "base_url", required=True, doc="public https:// root the site is served from"),
    Field("language", "str", default="en", choices=("en", "fr")),
    Field("description", "text", default=""),
    Field("theme", "object", schema=THEME, default=None),
    Field("footer", "text", default=""),
    Field("contact_email", "email"),
    Field("privacy_url", "url"),
    Field("smtp", "object", schema=SMTP, default=None, doc="mail settings for `badgekiln notify`"),
    Field("signing", "object", schema=SIGNING, default=None,
          doc="extra signed forms (vc_jwt, ob2_signed) and credential_status"),
    Field("outputs", "str", default="minimal", choices=("minimal", "full"),
          doc="minimal: per award only its page and JSON (images baked in the browser); full: also baked "
              "PNG/SVG files per award, for hosts without limits"),
    Field("host", "str", default="none", choices=HOSTS,
          doc="where the site is published: the build checks the site against that host's limits"),
    Field("public_repository", "bool", default=False,
          doc="set true if the source repository is public: rosters must then live elsewhere"),
    Field("date_order", "str", choices=values.DATE_ORDERS,
          doc="how to read dates like 13/04/2026 in awards and rosters (default: only YYYY-MM-DD)"),
)

ISSUER: Schema = (
    Field("name", "str", required=True),
    Field("url", "url", required=True),
    Field("email", "email", required=True, doc="public contact address of the issuing organisation"),
    Field("description", "text", default=""),
    Field("image", "path"),
    Field("telephone", "str"),
    Field("linkedin_organization_id", "int",
          doc="number of the issuer's LinkedIn page: 'Add to profile' then shows its logo and links it"),
)

ALIGNMENT: Schema = (
    Field("name", "str", required=True),
    Field("url", "url", required=True),
    Field("description", "str"),
    Field("framework", "str"),
    Field("code", "str"),
)

# CPD renewal rule of a badge ("every 12 months, 20 points"); see generator/cpd.py
RENEWAL: Schema = (
    Field("every", "duration", required=True, doc="length of a renewal period, e.g. 12m or 1y"),
    Field("points", "number", doc="CPD points to log in each period"),
    Field("hours", "number", doc="or: CPD hours to log in each period"),
)

# A pathway: the badge is awarded automatically to whoever holds other badges (model/pathways.py).
# Either `all_of: [a, b]`, or `n_of: 2` with `badges: [a, b, c]`; `within` bounds the issue dates.
PATHWAY: Schema = (
    Field("all_of", "slug", many=True, doc="badge ids: holders of every one of them earn this badge"),
    Field("n_of", "int", doc="or: how many of the badges listed under 'badges' must be held"),
    Field("badges", "slug", many=True, doc="the badge ids n_of counts from"),
    Field("within", "duration", doc="optional: all issued within this span of each other, e.g. 12m"),
)

BADGE: Schema = (
    Field("name", "str", required=True),
    Field("issuer", "slug"),
    Field("description", "text", required=True),
    Field("image", "path", required=True),
    Field("criteria", "text", required=True, doc="Markdown: what a recipient did to earn it"),
    Field("criteria_url", "url"),
    Field("tags", "str", many=True, default=()),
    Field("alignments", "object", many=True, schema=ALIGNMENT, default=()),
    Field("credits", "number", doc="CPD points or credit hours (creditsAvailable)"),
    Field("achievement_type", "str", default="Badge", choices=ACHIEVEMENT_TYPES),
    Field("valid_for", "duration", doc="3y, 18m, 90d or none"),
    Field("renewal", "object", schema=RENEWAL, default=None,
          doc="CPD renewal rule, e.g. {every: 12m, points: 20}"),
    Field("pathway", "object", schema=PATHWAY, default=None,
          doc="earned by holding other badges, e.g. {all_of: [first-aid, fire-warden]}"),
)

PREVIOUS_EMAIL = Field("previous_email", "email",
                       doc="the address a published award was issued to, when `email` corrects it (keeps its link)")

RECIPIENT: Schema = (
    Field("id", "slug", required=True),
    Field("name", "str", required=True),
    Field("email", "email", required=True),
    PREVIOUS_EMAIL,
    Field("listed", "bool", default=False, doc="agrees to be listed on the badge page"),
    Field("show_name", "bool", default=True, doc="false hides the name on the award page"),
)

EVIDENCE: Schema = (
    Field("url", "url"),
    Field("name", "str"),
    Field("description", "text"),
)

# lifecycle of an award (generator/lifecycle.py checks the rules between them)
STATUS_CHANGE: Schema = (
    Field("on", "date", required=True, doc="the date it took effect, YYYY-MM-DD"),
    Field("reason", "text", required=True, doc="why; shown on the award page and in the status lists"),
)

REINSTATEMENT: Schema = (
    Field("on", "date", required=True, doc="the date the suspension was lifted, YYYY-MM-DD"),
    Field("reason", "text", default=""),
)

CPD_ACTIVITY: Schema = (
    Field("date", "date", required=True),
    Field("title", "str", required=True),
    Field("points", "number"),
    Field("hours", "number"),
    Field("evidence", "url", doc="optional link to a certificate or record"),
)

AWARD: Schema = (
    Field("id", "slug", doc="tells two awards of one badge to one person apart"),
    Field("badge", "slug", required=True),
    Field("recipient", "slug", doc="id from content/recipients/; or give name and email"),
    Field("name", "str"),
    Field("email", "email"),
    PREVIOUS_EMAIL,
    Field("issued_on", "date", required=True),
    Field("expires", "date", doc="overrides the badge's valid_for for this award"),
    Field("evidence", "evidence", many=True, default=()),
    Field("narrative", "text"),
    Field("show_name", "bool"),
    Field("listed", "bool"),
    Field("revoked", "object", schema=STATUS_CHANGE, default=None, doc="badgekiln revoke AWARD --reason ..."),
    Field("suspended", "object", schema=STATUS_CHANGE, default=None, doc="badgekiln suspend AWARD --reason ..."),
    Field("reinstated", "object", schema=REINSTATEMENT, default=None, doc="badgekiln reinstate AWARD"),
    Field("cpd", "object", many=True, schema=CPD_ACTIVITY, default=(), doc="logged CPD activities"),
)

# An endorsement this site gives (content/given-endorsements.yaml; `badgekiln endorse` writes one)
GIVEN_ENDORSEMENT: Schema = (
    Field("id", "slug", required=True, doc="stable id: the endorsement's URL ends with it"),
    Field("about", "str", required=True,
          doc="what you endorse: an OB 2.0 BadgeClass or Profile URL, or an OB 3.0 Achievement or Profile id"),
    Field("name", "str", required=True, doc="the endorsed badge or organisation, as pages name it"),
    Field("comment", "text", required=True, doc="Markdown: what you vouch for"),
    Field("issued_on", "date", required=True),
    Field("valid_for", "duration", doc="3y, 18m or none (default: no expiry)"),
    Field("issuer", "slug", doc="which of your issuers endorses (optional with one issuer)"),
    Field("revoked", "object", schema=STATUS_CHANGE, default=None, doc="badgekiln revoke ID --reason ..."),
)

GIVEN_ENDORSEMENTS_FILE: Schema = (
    Field("endorsements", "object", required=True, many=True, schema=GIVEN_ENDORSEMENT),
)

# An awards file: defaults for every award in it, plus the list.
AWARDS_FILE: Schema = tuple(
    Field(f.name, f.kind, many=f.many, schema=f.schema, choices=f.choices) for f in AWARD
    if f.name not in ("id", "recipient", "name", "email", "previous_email", "revoked", "suspended", "reinstated", "cpd")
) + (Field("awards", "object", required=True, many=True, schema=()),)


def _parse_color(value: Any) -> str:
    import re

    if isinstance(value, str) and re.fullmatch(r"#[0-9a-fA-F]{6}|#[0-9a-fA-F]{3}", value.strip()):
        return value.strip().lower()
    raise ValueError(f"'{value}' is not a colour; write it as #rrggbb, e.g. #1f4e79")


def _text(value: Any) -> str:
    if isinstance(value, bool) or isinstance(value, (YMap, YList, list, dict)) or value is None:
        raise TypeError
    return str(value)


def _number(value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError
    if value < 0:
        raise ValueError(f"{value} is negative")
    return value


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError
    return value


def _path(value: Any) -> str:
    text = _text(value).strip()
    if not text:
        raise ValueError("path is empty")
    return text


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "str": lambda v: _text(v).strip(),
    "text": _text,
    "int": _int,
    "number": _number,
    "bool": _bool,
    "date": values.parse_datetime,
    "email": values.normalise_email,
    "url": values.parse_url,
    "base_url": values.parse_base_url,
    "slug": values.parse_slug,
    "duration": values.parse_duration,
    "path": _path,
    "color": _parse_color,
}

_KIND_CODES = {"date": "E204", "email": "E205", "url": "E206", "base_url": "E206", "slug": "E208",
               "duration": "E209"}


@dataclass(slots=True)  # one per award (10^5 of them): slots, and no copy of the schema's defaults
class Validated:
    """Typed values of one mapping plus where each came from (for later cross-reference errors).

    `values` holds what the mapping gave; an optional field it leaves out reads as its default
    from `defaults`, one dict shared by every mapping of that schema (`_defaults`).
    """

    values: dict[str, Any]
    loc: Location
    locs: dict[str, Location] = field(default_factory=dict)
    item_locs: dict[str, list[Location]] | None = None  # each item of a list value (None: no list given)
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.values[key] if key in self.values else self.defaults[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.values[key] if key in self.values else self.defaults.get(key, default)

    def at(self, key: str) -> Location:
        return self.locs.get(key, self.loc)

    def at_item(self, key: str, index: int) -> Location:
        """Where item `index` of a list value is (the list's place when it was written as one value)."""
        items = self.item_locs.get(key, ()) if self.item_locs else ()
        return items[index] if index < len(items) else self.at(key)


_DEFAULTS: dict[int, tuple[Schema, Mapping[str, Any]]] = {}  # id(schema) -> (schema, its defaults)


def _defaults(schema: Schema) -> Mapping[str, Any]:
    """The value of each optional field of `schema` that a mapping leaves out (one read-only dict per schema)."""
    known = _DEFAULTS.get(id(schema))
    if known is None:  # the schema is kept with its defaults, so its id is never another's
        known = _DEFAULTS[id(schema)] = (schema, MappingProxyType({f.name: f.default for f in schema
                                                                  if not f.required}))
    return known[1]


def validate(doc: Any, schema: Schema, report: Report, where: Location, what: str, *,
             date_order: str | None = None) -> Validated | None:
    """Check `doc` against `schema`, reporting every problem; None if it has any error.

    `date_order` (site.yaml `date_order`) also accepts dates like 13/04/2026 (values.parse_datetime).
    """
    if not isinstance(doc, YMap):
        report.error("E106", f"{what} must be a mapping of keys to values", where,
                     "see the example in the README or run `badgekiln new`")
        return None
    errors_before = report.error_count()
    by_name = {f.name: f for f in schema}
    out = Validated({}, doc.loc, {}, defaults=_defaults(schema))
    item_locs: dict[str, list[Location]] = {}
    suggested: set[str] = set()
    for key, raw in doc.items():
        spec = by_name.get(key)
        if spec is None:
            hint = did_you_mean(key, list(by_name))
            if hint:
                suggested.add(hint.split("'")[1])
            report.error("E201", f"unknown key '{key}' in {what}", doc.key_loc(key),
                         hint or f"allowed keys: {', '.join(sorted(by_name))}")
            continue
        out.locs[spec.name] = doc.value_loc(key)
        if spec.many and isinstance(raw, YList):
            item_locs[spec.name] = raw.item_locs
        parsed = _field(spec, raw, doc.value_loc(key), report, date_order)
        if parsed is not _INVALID:
            out.values[spec.name] = parsed
    for spec in schema:
        if spec.name in out.locs:
            continue
        if spec.required and spec.name not in suggested:
            report.error("E202", f"{what} needs '{spec.name}'", doc.loc,
                         f"add a line `{spec.name}: ...`" + (f" ({spec.doc})" if spec.doc else ""))
    if item_locs:
        out.item_locs = item_locs
    return out if report.error_count() == errors_before else None


_INVALID = object()


def _field(spec: Field, raw: Any, loc: Location, report: Report, date_order: str | None) -> Any:
    if spec.many:
        if raw is None:
            return spec.default
        items = raw if isinstance(raw, YList) else [raw]
        item_locs = raw.item_locs if isinstance(raw, YList) else [loc]
        results = [_one(spec, item, item_loc, report, date_order) for item, item_loc in zip(items, item_locs)]
        return _INVALID if any(r is _INVALID for r in results) else tuple(results)
    if isinstance(raw, YList):
        report.error("E203", f"'{spec.name}' takes one value, not a list", loc)
        return _INVALID
    return _one(spec, raw, loc, report, date_order)


def _one(spec: Field, raw: Any, loc: Location, report: Report, date_order: str | None) -> Any:
    if spec.kind == "object":
        if not spec.schema:  # validated by the caller (e.g. the awards list)
            return raw
        result = validate(raw, spec.schema, report, loc, f"'{spec.name}' entry", date_order=date_order)
        return _INVALID if result is None else result
    if spec.kind == "evidence":
        if isinstance(raw, str):
            raw_url = raw
            try:
                return Validated({"url": values.parse_url(raw_url), "name": None, "description": None}, loc, {})
            except ValueError as exc:
                report.error("E206", str(exc), loc)
                return _INVALID
        result = validate(raw, EVIDENCE, report, loc, "evidence entry")
        if result is not None and not (result.get("url") or result.get("description")):
            report.error("E202", "evidence needs a 'url' or a 'description'", loc)
        return _INVALID if result is None else result
    if isinstance(raw, str) and spec.kind != "text" and not _single_line(spec, raw, loc, report):
        return _INVALID
    if raw is None:
        if spec.kind == "duration":
            return None
        if spec.required:
            report.error("E202", f"'{spec.name}' is empty", loc, "give it a value")
        return spec.default if not spec.required else _INVALID
    try:
        value = values.parse_datetime(raw, date_order) if spec.kind == "date" else _PARSERS[spec.kind](raw)
    except TypeError:
        got = "a mapping" if isinstance(raw, YMap) else "a list" if isinstance(raw, YList) else repr(raw)
        report.error("E203", f"expected {_TYPE_NAMES.get(spec.kind, spec.kind)}, got {got}", loc)
        return _INVALID
    except ValueError as exc:
        report.error(_KIND_CODES.get(spec.kind, "E207"), str(exc), loc)
        return _INVALID
    if spec.choices and value not in spec.choices:
        report.error("E207", f"'{value}' is not a valid {spec.name}", loc,
                     did_you_mean(str(value), spec.choices) or f"one of: {', '.join(spec.choices)}")
        return _INVALID
    return value


_BREAKS = {"\t": "a tab", "\n": "a line break", "\r": "a line break"}


def _single_line(spec: Field, raw: str, loc: Location, report: Report) -> bool:
    """Only multi-line (Markdown) fields may hold a tab or a line break; E210 for any other field."""
    text = raw.strip()
    index = next((i for i, char in enumerate(text) if char in _BREAKS), None)
    if index is None:
        return True
    char = text[index]
    report.error("E210", f"{_BREAKS[char]} (U+{ord(char):04X}) at character {index + 1} of the text: this field "
                 "must be a single line", loc,
                 "write it on one line (only Markdown fields such as description and criteria may have several)")
    return False

