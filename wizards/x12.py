"""X12 helpers shared by the 837P export and the 835 import: segments out, validation by pyx12,
segments in. Plain Python, no ORM, so that it can be tested and timed on its own."""

import io
import logging
import re

import pyx12.params
import pyx12.x12n_document

ELEMENT, COMPONENT, REPETITION, SEGMENT = "*", ":", "^", "~"
# What X12's basic and extended character sets allow in a value; anything else becomes a space.
_UNSAFE = re.compile(r"[^A-Za-z0-9 !\"&'()+,\-./;?=%@\[\]_{}\\|<>#$]")


def clean(value, length=None):
    """A value fit for an X12 element: no separators, upper case, trimmed to `length`."""
    text = _UNSAFE.sub(" ", str(value or "")).strip().upper()
    text = re.sub(r"\s+", " ", text)
    return text[:length] if length else text


def amount(value):
    """An X12 monetary amount: no trailing zeros, no sign for zero (75, 75.5, 75.25)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def segment(*elements):
    """One segment, trailing empty elements dropped as the standard requires."""
    values = [str(element) if element is not None else "" for element in elements]
    while values and values[-1] == "":
        values.pop()
    return ELEMENT.join(values) + SEGMENT


class _Findings(logging.Handler):
    """Collects what pyx12 reports while it walks a file (it reports through logging)."""

    PATTERN = re.compile(r"^(?:.*?Line:(\d+) )?(?:ISA|GS|ST|SEG|ELE):\w+ - (.*)$", re.DOTALL)

    def __init__(self):
        super().__init__(logging.ERROR)
        self.findings = []

    def emit(self, record):
        message = record.getMessage()
        match = self.PATTERN.match(message)
        if match:
            self.findings.append((int(match.group(1) or 0), match.group(2).strip()))
        else:
            self.findings.append((0, message.strip()))


def validate(content):
    """pyx12's findings on an X12 file: a list of (segment number in the file, message).

    Empty when the file passes the implementation guide's map (syntax, loops, codes)."""
    params = pyx12.params.ParamsBase()
    params.set("map_path", None)
    logger = logging.getLogger("pyx12")
    handler = _Findings()
    propagate = logger.propagate
    logger.addHandler(handler)
    # The findings are returned to the caller, who words them for the biller: not logged.
    logger.propagate = False
    try:
        ok = pyx12.x12n_document.x12n_document(
            params, io.StringIO(content), None, None, fd_json=io.StringIO()
        )
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate
    findings = handler.findings
    if not ok and not findings:
        findings.append((0, "The file is not a valid X12 document."))
    return findings


def split_segments(content):
    """An X12 file as lists of elements, whatever separators its ISA declares."""
    content = content.lstrip()
    if not content.startswith("ISA") or len(content) < 106:
        raise ValueError("not an X12 interchange")
    element_sep, segment_sep = content[3], content[105]
    component_sep = content[104]
    segments = []
    for raw in content.split(segment_sep):
        raw = raw.strip("\r\n ")
        if raw:
            segments.append(raw.split(element_sep))
    return segments, component_sep


RELATIONSHIP_CODES = {"spouse": "01", "child": "19", "other": "G8"}
SEX_CODES = {"female": "F", "male": "M", "unknown": "U"}


def _person_name(qualifier, person, ident_qualifier="", ident=""):
    """The NM1 of a person (entity type 1): last and first name, then the identifier if any.
    Every person of a claim is named this way: subscriber, patient, rendering provider."""
    return segment(
        "NM1",
        qualifier,
        "1",
        clean(person["last"], 60),
        clean(person["first"], 35),
        "",
        "",
        "",
        ident_qualifier if ident else "",
        clean(ident, 80) if ident else "",
    )


def _person_segments(qualifier, person, ident_qualifier="", ident=""):
    """NM1 (+ N3/N4 when the address is known, DMG when the birth date is) for a person."""
    rows = [_person_name(qualifier, person, ident_qualifier, ident)]
    if person.get("street"):
        rows.append(segment("N3", clean(person["street"], 55)))
        rows.append(segment("N4", clean(person["city"], 30), person["state"], person["zip"]))
    if person.get("birthdate"):
        rows.append(
            segment("DMG", "D8", person["birthdate"].strftime("%Y%m%d"), SEX_CODES[person["sex"]])
        )
    return rows


def _rendering_segments(provider):
    """A rendering provider (loops 2310B and 2420A): name and NPI, and taxonomy when known."""
    rows = [_person_name("82", provider, "XX", provider["npi"])]
    if provider.get("taxonomy"):
        rows.append(segment("PRV", "PE", "PXC", clean(provider["taxonomy"], 50)))
    return rows


def _line_rendering(claim, service, always):
    """The service line's rendering provider (loop 2420A) when it is not the claim's, or on
    every line for a payer that asks for it; else none (the claim's 2310B applies)."""
    provider = service.get("rendering")
    if not provider:
        return []
    if always or provider["npi"] != claim["rendering"]["npi"]:
        return _rendering_segments(provider)
    return []


def _adjustment_segments(adjustments):
    """CAS segments: one per adjustment group, at most six reasons each, in the order given."""
    by_group = {}
    for group, code, money in adjustments:
        by_group.setdefault(group, []).append((code, money))
    rows = []
    for group, items in by_group.items():
        for start in range(0, len(items), 6):
            elements = []
            for code, money in items[start : start + 6]:
                elements += [clean(code, 5), amount(money), ""]
            rows.append(segment("CAS", group, *elements))
    return rows


def _other_payer_segments(claim):
    """Loops 2320 (the other subscriber: SBR, claim-level CAS, AMT*D paid, OI), 2330A (their
    name and member ID) and 2330B (the other payer, with its adjudication date when no line
    says it) for a claim sent to the payer that pays after the one in ``claim["cob"]``."""
    cob = claim["cob"]
    is_self = cob["relationship"] == "self"
    rows = [
        segment(
            "SBR",
            "P",
            "18" if is_self else RELATIONSHIP_CODES[cob["relationship"]],
            clean(cob["group_number"], 50),
            "",
            "",
            "",
            "",
            "",
            cob["filing_code"],
        )
    ]
    rows += _adjustment_segments(cob["adjustments"])[:5]
    rows.append(segment("AMT", "D", amount(cob["paid"])))
    rows.append(segment("OI", "", "", "Y", "", "", "Y"))
    rows.append(_person_name("IL", cob["subscriber"], "MI", cob["member_ident"]))
    rows.append(
        segment(
            "NM1",
            "PR",
            "2",
            clean(cob["payer"]["name"], 60),
            "",
            "",
            "",
            "",
            "PI",
            clean(cob["payer"]["code"], 80),
        )
    )
    if not any(service.get("adjudication") for service in claim["services"]):
        rows.append(segment("DTP", "573", "D8", cob["date"].strftime("%Y%m%d")))
    if cob.get("payer_ref"):
        rows.append(segment("REF", "F8", clean(cob["payer_ref"], 50)))
    return rows


def _line_adjudication_segments(cob, adjudication):
    """Loop 2430: SVD (the other payer's paid amount for the line), its CAS, DTP*573."""
    procedure = COMPONENT.join(["HC", adjudication["code"], *adjudication.get("modifiers", [])[:4]])
    rows = [
        segment(
            "SVD",
            clean(cob["payer"]["code"], 80),
            amount(adjudication["paid"]),
            procedure,
            "",
            str(adjudication.get("units") or 1),
        )
    ]
    rows += _adjustment_segments(adjudication["adjustments"])[:5]
    rows.append(segment("DTP", "573", "D8", cob["date"].strftime("%Y%m%d")))
    return rows


def interchange_envelope(function, sender, receiver, created, control_number, version, test=False):
    """The ISA and GS segments that open an interchange of one functional group: `function` is
    the group's code (HC claims, HP remittances), `version` the implementation guide."""
    return [
        segment(
            "ISA",
            "00",
            " " * 10,
            "00",
            " " * 10,
            "ZZ",
            sender.ljust(15),
            "ZZ",
            receiver.ljust(15),
            created.strftime("%y%m%d"),
            created.strftime("%H%M"),
            REPETITION,
            "00501",
            f"{control_number:09d}",
            "0",
            "T" if test else "P",
            COMPONENT,
        ),
        segment(
            "GS",
            function,
            sender,
            receiver,
            created.strftime("%Y%m%d"),
            created.strftime("%H%M"),
            str(control_number),
            "X",
            version,
        ),
    ]


def build_837p(header, claims):
    """One 837P 005010X222A1 interchange to one payer.

    A claim's ``rendering`` provider (last, first, npi, optional taxonomy) is its loop 2310B;
    a service's own ``rendering`` becomes loop 2420A when it differs, or on every line when
    ``header["payer"]["line_rendering"]`` is set.

    A claim to the payer that pays second carries ``cob``: the payer that paid first
    (payer {name, code}, relationship, group_number, filing_code, subscriber, member_ident,
    paid, adjustments [(group, code, amount)] at claim level, date, payer_ref), and each of its
    services may carry that payer's ``adjudication`` {code, modifiers, units, paid,
    adjustments}: loops 2320, 2330A, 2330B and 2430, and SBR01 = S.

    Returns (content, owners): owners[i] is the index in `claims` of the claim that segment
    i + 1 of the transaction set (ST = 1) belongs to, or None for the envelope and headers, so
    that a validator's finding names the client it is about.
    """
    created = header["created"]
    sender, receiver = clean(header["sender_id"], 15), clean(header["receiver_id"], 15)
    control = f"{header['control_number']:09d}"
    envelope = interchange_envelope(
        "HC",
        sender,
        receiver,
        created,
        header["control_number"],
        "005010X222A1",
        test=header.get("test"),
    )
    billing, payer = header["billing"], header["payer"]
    body = [
        segment("ST", "837", "0001", "005010X222A1"),
        segment(
            "BHT",
            "0019",
            "00",
            clean(header["batch_ref"], 50),
            created.strftime("%Y%m%d"),
            created.strftime("%H%M"),
            "CH",
        ),
        # 1000A submitter, 1000B receiver
        segment("NM1", "41", "2", clean(billing["name"], 60), "", "", "", "", "46", sender),
        segment("PER", "IC", clean(billing["contact"], 60), "TE", billing["phone"]),
        segment("NM1", "40", "2", clean(payer["name"], 60), "", "", "", "", "46", receiver),
        # 2000A billing provider, 2010AA its name, address and tax ID
        segment("HL", "1", "", "20", "1"),
        segment("PRV", "BI", "PXC", billing["taxonomy"]),
        segment("NM1", "85", "2", clean(billing["name"], 60), "", "", "", "", "XX", billing["npi"]),
        segment("N3", clean(billing["street"], 55)),
        segment("N4", clean(billing["city"], 30), billing["state"], billing["zip"]),
        segment("REF", "EI", billing["tin"]),
    ]
    owners = [None] * len(body)
    hl = 1
    for index, claim in enumerate(claims):
        rows = []
        hl += 1
        subscriber_hl = hl
        is_self = claim["relationship"] == "self"
        rows.append(segment("HL", str(subscriber_hl), "1", "22", "0" if is_self else "1"))
        rows.append(
            segment(
                "SBR",
                # S: this payer pays after the one in loop 2320 (coordination of benefits).
                "S" if claim.get("cob") else "P",
                "18" if is_self else "",
                clean(claim["group_number"], 50),
                "",
                "",
                "",
                "",
                "",
                claim["filing_code"],
            )
        )
        rows += _person_segments("IL", claim["subscriber"], "MI", claim["member_ident"])
        rows.append(
            segment("NM1", "PR", "2", clean(payer["name"], 60), "", "", "", "", "PI", receiver)
        )
        if not is_self:
            hl += 1
            rows.append(segment("HL", str(hl), str(subscriber_hl), "23", "0"))
            rows.append(segment("PAT", RELATIONSHIP_CODES[claim["relationship"]]))
            rows += _person_segments("QC", claim["client"])
        # 2300 claim
        rows.append(
            segment(
                "CLM",
                clean(claim["ref"], 38),
                amount(claim["charge"]),
                "",
                "",
                COMPONENT.join((claim["place_of_service"], "B", claim["frequency"])),
                "Y",
                "A",
                "Y",
                "Y",
            )
        )
        # A replacement (7) or a void (8) names the insurer's claim it replaces or voids.
        if claim["frequency"] in ("7", "8"):
            rows.append(segment("REF", "F8", clean(claim["original_ref"], 50)))
        rows.append(
            segment(
                "HI",
                *(
                    f"{'ABK' if position == 0 else 'ABF'}{COMPONENT}{code.replace('.', '')}"
                    for position, code in enumerate(claim["diagnoses"][:12])
                ),
            )
        )
        # 2310B rendering provider (the billing provider is the practice, not a person)
        rows += _rendering_segments(claim["rendering"])
        # 2320/2330A/2330B the payer that paid first, and what it did with the claim
        if claim.get("cob"):
            rows += _other_payer_segments(claim)
        # 2400 service lines
        for number, service in enumerate(claim["services"], start=1):
            procedure = COMPONENT.join(["HC", service["code"], *service["modifiers"][:4]])
            rows.append(segment("LX", str(number)))
            rows.append(
                segment(
                    "SV1",
                    procedure,
                    amount(service["charge"]),
                    "UN",
                    str(service["units"]),
                    "",
                    "",
                    COMPONENT.join(str(pointer) for pointer in service["pointers"][:4]),
                )
            )
            rows.append(segment("DTP", "472", "D8", service["date"].strftime("%Y%m%d")))
            # 2420A rendering provider of the line
            rows += _line_rendering(claim, service, payer.get("line_rendering"))
            # 2430 how the payer that paid first adjudicated the line
            if claim.get("cob") and service.get("adjudication"):
                rows += _line_adjudication_segments(claim["cob"], service["adjudication"])
        body += rows
        owners += [index] * len(rows)
    body.append(segment("SE", str(len(body) + 1), "0001"))
    owners.append(None)
    trailer = [
        segment("GE", "1", str(header["control_number"])),
        segment("IEA", "1", control),
    ]
    return "\n".join(envelope + body + trailer) + "\n", owners


# The claim adjustment reasons (CARC) and remark codes (RARC) billers meet most in behavioral
# health, in words; others are shown by code.
CARC = {
    "1": "Deductible amount",
    "2": "Coinsurance amount",
    "3": "Co-payment amount",
    "4": "The procedure code is inconsistent with the modifier used, or a modifier is missing",
    "5": "The procedure code or bill type is inconsistent with the place of service",
    "11": "The diagnosis is inconsistent with the procedure",
    "16": "The claim lacks information or has billing errors",
    "18": "Exact duplicate claim or service",
    "22": "This care may be covered by another payer (coordination of benefits)",
    "23": "The impact of prior payer adjudication, including payments and adjustments",
    "26": "Expenses incurred before coverage",
    "27": "Expenses incurred after coverage terminated",
    "29": "The time limit for filing has expired",
    "31": "The patient cannot be identified as our insured",
    "45": "The charge exceeds the fee schedule or the maximum allowable amount",
    "50": "Non-covered service: not deemed a medical necessity by the payer",
    "96": "Non-covered charge",
    "97": "The benefit for this service is included in another service already adjudicated",
    "109": "Claim or service not covered by this payer; send it to the correct payer",
    "119": "Benefit maximum for this time period or occurrence has been reached",
    "151": "The payer deems the information submitted does not support this many services",
    "197": "Precertification, authorization or notification is absent",
    "204": "This service is not covered under the patient's current benefit plan",
    "242": "Services not provided by network or primary care providers",
    "253": "Sequestration: reduction of federal payment",
}
RARC = {
    "M15": "Separately billed services or tests have been bundled",
    "M51": "Missing, incomplete or invalid procedure code",
    "M76": "Missing, incomplete or invalid diagnosis or condition",
    "MA04": "Secondary payment cannot be considered without the primary payer's information",
    "MA130": "The claim has missing or invalid information: correct it and submit a new claim",
    "N115": "Decision based on a local coverage determination (LCD)",
    "N130": "Consult plan benefit documents or guidelines for information about restrictions",
    "N290": "Missing or invalid rendering provider identifier",
    "N362": "The number of days or units of service exceeds the acceptable maximum",
    "N386": "Decision based on a national coverage determination (NCD)",
}
ADJUSTMENT_GROUPS = {
    "CO": "Contractual obligation",
    "PR": "Patient responsibility",
    "OA": "Other adjustment",
    "PI": "Payer-initiated reduction",
    "CR": "Correction or reversal",
}
# Provider-level adjustment reasons (PLB03-1) met most, in words.
PROVIDER_ADJUSTMENTS = {
    "72": "Authorized return (refund to the insurer)",
    "90": "Early payment allowance",
    "AP": "Acceleration of benefits",
    "B2": "Rebate",
    "B3": "Recovery allowance",
    "BD": "Bad debt adjustment",
    "BN": "Bonus",
    "C5": "Temporary allowance",
    "CS": "Adjustment",
    "CV": "Capital passthru",
    "CW": "Certified registered nurse anesthetist passthru",
    "DM": "Direct medical education passthru",
    "E3": "Withholding",
    "FB": "Forwarding balance (carried to or from another remittance)",
    "FC": "Fund allocation",
    "GO": "Graduate medical education passthru",
    "HM": "Hemophilia clotting factor supplement",
    "IP": "Incentive premium payment",
    "IR": "Internal Revenue Service withholding",
    "IS": "Interim settlement",
    "J1": "Nonreimbursable",
    "L3": "Penalty",
    "L6": "Interest owed",
    "LE": "Levy",
    "LS": "Lump sum",
    "OA": "Organ acquisition passthru",
    "OB": "Offset for affiliated providers",
    "PI": "Periodic interim payment",
    "PL": "Payment final",
    "RA": "Retro-activity adjustment",
    "RE": "Return on equity",
    "SL": "Student loan repayment",
    "TL": "Third party liability",
    "WO": "Overpayment recovery",
    "WU": "Unspecified recovery",
}
CLAIM_STATUS = {
    "1": "processed as primary",
    "2": "processed as secondary",
    "3": "processed as tertiary",
    "4": "denied",
    "19": "processed as primary, forwarded to another payer",
    "20": "processed as secondary, forwarded to another payer",
    "21": "processed as tertiary, forwarded to another payer",
    "22": "reversal of a previous payment",
    "23": "not our claim, forwarded to another payer",
}


def reason_in_words(group, code):
    """'CO-45: The charge exceeds the fee schedule...' for an adjustment."""
    words = CARC.get(code, f"reason code {code}")
    return f"{group}-{code}: {words}"


def provider_adjustment_in_words(reason, reference):
    """'WO: Overpayment recovery (ref 12345)' for a PLB adjustment."""
    words = PROVIDER_ADJUSTMENTS.get(reason, f"adjustment code {reason}")
    return f"{reason}: {words}" + (f" (ref {reference})" if reference else "")


def remark_in_words(code):
    return f"{code}: {RARC.get(code, 'remark code ' + code)}"


def _money(value):
    try:
        return round(float(value), 2)
    except (TypeError, ValueError):
        return None


def parse_835(content):
    """An 835 remittance as plain data.

    Returns {"payment": {amount, method, date, trace}, "payer": {name, code},
    "payee": {name, npi, tin}, "claims": [...], "provider_adjustments": total,
    "provider_adjustment_lines": [(reason, reference, amount)]}, each claim
    {line, ref, status, charge, paid, patient, payer_ref, frequency (CLP09, the claim's
    frequency code as the insurer answers it), adjustments: [(group, code, amount)],
    remarks: [code], claim_adjustments: the adjustments not given for a service line,
    services: [{code, modifiers, charge, paid, units, adjustments}]}; `line` is the CLP's
    segment number, for reports. `adjustments` holds every adjustment, claim and lines.
    """
    segments, component = split_segments(content)
    data = {
        "payment": {},
        "payer": {},
        "payee": {},
        "claims": [],
        "provider_adjustments": 0.0,
        "provider_adjustment_lines": [],
        "transaction": "",
    }
    entity, claim, service = None, None, None
    for number, elements in enumerate(segments, start=1):
        tag = elements[0]
        value = lambda position, elements=elements: (  # noqa: E731
            elements[position] if len(elements) > position else ""
        )
        if tag == "ST":
            data["transaction"] = value(1)
        elif tag == "BPR":
            data["payment"].update(
                amount=_money(value(2)), method=value(4), date=value(16), kind=value(1)
            )
        elif tag == "TRN":
            data["payment"]["trace"] = value(2)
        elif tag == "N1":
            entity = value(1)
            if entity == "PR":
                data["payer"].update(name=value(2), code=value(4) if value(3) == "XV" else "")
            elif entity == "PE":
                data["payee"].update(
                    name=value(2),
                    npi=value(4) if value(3) == "XX" else "",
                    tin=value(4) if value(3) == "FI" else "",
                )
        elif tag == "REF" and claim is None:
            if entity == "PR" and value(1) == "2U":
                data["payer"]["code"] = value(2)
            elif entity == "PE" and value(1) == "TJ":
                data["payee"]["tin"] = value(2)
        elif tag == "CLP":
            claim = {
                "line": number,
                "ref": value(1),
                "status": value(2),
                "charge": _money(value(3)),
                "paid": _money(value(4)),
                "patient": _money(value(5) or 0),
                "payer_ref": value(7),
                "frequency": value(9),
                "adjustments": [],
                "claim_adjustments": [],
                "services": [],
                "remarks": [],
            }
            service = None
            data["claims"].append(claim)
        elif tag == "SVC" and claim is not None:
            procedure = value(1).split(component)
            service = {
                "code": procedure[1] if len(procedure) > 1 else procedure[0],
                "modifiers": [modifier for modifier in procedure[2:6] if modifier],
                "charge": _money(value(2)),
                "paid": _money(value(3)),
                "units": _money(value(5)) or 1,
                "adjustments": [],
            }
            claim["services"].append(service)
        elif tag == "CAS" and claim is not None:
            group = value(1)
            for position in range(2, len(elements), 3):
                code, money = value(position), _money(value(position + 1))
                if code:
                    claim["adjustments"].append((group, code, money))
                    where = service["adjustments"] if service else claim["claim_adjustments"]
                    where.append((group, code, money))
        elif tag in ("LQ", "MOA", "MIA") and claim is not None:
            if tag == "LQ" and value(1) == "HE":
                claim["remarks"].append(value(2))
            elif tag in ("MOA", "MIA"):
                claim["remarks"] += [
                    code for code in elements[3:] if re.fullmatch(r"[A-Z]{1,2}\d+", code)
                ]
        elif tag == "PLB":
            # Positive amounts are withheld from the payment, negative ones added (interest).
            for position in range(3, len(elements), 2):
                money = _money(value(position + 1))
                if money:
                    reason, _sep, reference = value(position).partition(component)
                    data["provider_adjustments"] += money
                    data["provider_adjustment_lines"].append((reason, reference, money))
        elif tag in ("SE", "GE", "IEA"):
            claim, service = None, None
    data["component"] = component
    return data


def build_835(header, claims):
    """An 835 005010X221A1 remittance, as an insurer sends it (tests and benchmark).

    header: created, control_number, trace, payer {name, code}, payee {name, npi}, amount;
    claims: ref, status, charge, paid, patient, payer_ref, adjustments [(group, code, amount)],
    remarks [code], client {last, first}, member_ident, frequency (optional, CLP09: 8 for the
    answer to a void), services [(code, charge, paid, date)]
    or [(code, charge, paid, date, adjustments)] for adjustments given per line (then the
    claim's ``adjustments`` are its claim-level ones only);
    header["provider_adjustments"] (optional): PLB [(reason, reference, amount)].
    """
    created = header["created"]
    control = f"{header['control_number']:09d}"
    payer, payee = header["payer"], header["payee"]
    rows = interchange_envelope(
        "HP",
        clean(payer["code"], 15),
        clean(payee["npi"], 15),
        created,
        header["control_number"],
        "005010X221A1",
    )
    body = [
        segment("ST", "835", "0001"),
        segment(
            "BPR",
            "I" if header["amount"] else "H",
            amount(header["amount"]),
            "C",
            "ACH" if header["amount"] else "NON",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            created.strftime("%Y%m%d"),
        ),
        segment(
            "TRN", "1", clean(header["trace"], 50), "1" + clean(payer["code"], 9).rjust(9, "0")
        ),
        segment("DTM", "405", created.strftime("%Y%m%d")),
        segment("N1", "PR", clean(payer["name"], 60), "XV", clean(payer["code"], 80)),
        segment("N3", "PO BOX 1000"),
        segment("N4", "SAN FRANCISCO", "CA", "94105"),
        segment("PER", "BL", "PROVIDER SERVICES", "TE", "8005550100"),
        segment("N1", "PE", clean(payee["name"], 60), "XX", payee["npi"]),
    ]
    for number, claim in enumerate(claims, start=1):
        body.append(segment("LX", str(number)))
        body.append(
            segment(
                "CLP",
                clean(claim["ref"], 38),
                claim["status"],
                amount(claim["charge"]),
                amount(claim["paid"]),
                amount(claim["patient"]) if claim["patient"] else "",
                "12",
                clean(claim["payer_ref"], 50),
                "11",
                claim.get("frequency") or "1",
            )
        )
        body += _adjustment_segments(claim["adjustments"])
        client = claim["client"]
        body.append(
            segment(
                "NM1",
                "QC",
                "1",
                clean(client["last"], 60),
                clean(client["first"], 35),
                "",
                "",
                "",
                "MI",
                clean(claim["member_ident"], 80),
            )
        )
        for code, charge, paid, date, *line_adjustments in claim["services"]:
            body.append(
                segment("SVC", f"HC{COMPONENT}{code}", amount(charge), amount(paid), "", "1")
            )
            body.append(segment("DTM", "472", date.strftime("%Y%m%d")))
            body += _adjustment_segments(line_adjustments[0] if line_adjustments else [])
        for remark in claim.get("remarks", []):
            body.append(segment("LQ", "HE", remark))
    adjustments = header.get("provider_adjustments") or []
    if adjustments:
        elements = []
        for reason, reference, money in adjustments[:6]:
            elements += [COMPONENT.join(filter(None, (reason, reference))), amount(money)]
        body.append(segment("PLB", payee["npi"], created.strftime("%Y") + "1231", *elements))
    body.append(segment("SE", str(len(body) + 1), "0001"))
    rows += body
    rows += [segment("GE", "1", str(header["control_number"])), segment("IEA", "1", control)]
    return "\n".join(rows) + "\n"
