"""Demo data: Guatemalan issuing institutions and their templates (idempotent: run it as often as you like).

The qualification codes are those of the `gt-mnc` framework seed (node/framework). ESCO skill URIs
are left for the operator to add: a wrong URI would be a false claim in every credential.
"""

from __future__ import annotations

from typing import Any

INSTITUTIONS: list[dict[str, Any]] = [
    {
        "slug": "intecap",
        "name": "Instituto Técnico de Capacitación y Productividad (INTECAP)",
        "url": "https://intecap.edu.gt",
        "logo_url": "https://intecap.edu.gt/logo.png",
        "scope": {"sectors": ["construction", "hospitality"], "isco_groups": ["7", "5"], "rqf_levels": [1, 2, 3, 4]},
    },
    {
        "slug": "usac-microcredenciales",
        "name": "Universidad de San Carlos de Guatemala, Unidad de Microcredenciales",
        "url": "https://www.usac.edu.gt",
        "logo_url": None,
        "scope": {"sectors": ["health", "hospitality"], "isco_groups": ["3", "5"], "rqf_levels": [3, 4, 5, 6]},
    },
]

TEMPLATES: list[dict[str, Any]] = [
    {
        "id": "intecap-albanileria-2",
        "institution": "intecap",
        "name": "Albañil (nivel 2)",
        "description": "Certifica la competencia para levantar muros de mampostería y elementos de concreto según planos.",
        "qualification_code": "GT-CON-ALB-2",
        "qualification_title": "Albañilería",
        "framework_id": "gt-mnc",
        "national_level": "2",
        "rqf_level": 2,
        "sector": "construction",
        "isco_code": "7112",
        "learning_outcomes": [
            "Interpreta planos y especificaciones sencillas de obra",
            "Levanta muros de block y ladrillo a plomo y nivel",
            "Prepara mezclas de mortero y concreto en las proporciones indicadas",
            "Aplica normas de seguridad e higiene en la obra",
        ],
        "notional_workload_hours": 320,
        "assessment_type": "Demostración práctica en obra y prueba escrita",
        "quality_assurance": "Sistema de certificación por competencias de INTECAP",
        "participation_form": "presencial",
        "validity": "P5Y",
        "languages": ["es"],
        "achievement_type": "Certificate",
    },
    {
        "id": "intecap-cocina-3",
        "institution": "intecap",
        "name": "Cocinero (nivel 3)",
        "description": "Certifica la competencia para preparar y presentar platillos en cocina profesional.",
        "qualification_code": "GT-HOS-COC-3",
        "qualification_title": "Cocina",
        "framework_id": "gt-mnc",
        "national_level": "3",
        "rqf_level": 3,
        "sector": "hospitality",
        "isco_code": "5120",
        "learning_outcomes": [
            "Planifica la producción de un menú",
            "Prepara platillos de la cocina guatemalteca e internacional",
            "Aplica buenas prácticas de manipulación de alimentos",
        ],
        "notional_workload_hours": 480,
        "assessment_type": "Prueba práctica de producción y entrevista técnica",
        "quality_assurance": "Sistema de certificación por competencias de INTECAP",
        "participation_form": "presencial",
        "validity": "P5Y",
        "languages": ["es"],
        "achievement_type": "Certificate",
    },
    {
        "id": "usac-cuidado-personas-3",
        "institution": "usac-microcredenciales",
        "name": "Cuidado de personas (nivel 3)",
        "description": "Microcredencial en atención y cuidado de personas adultas mayores y dependientes.",
        "qualification_code": "GT-SAL-CUI-3",
        "qualification_title": "Cuidado de personas",
        "framework_id": "gt-mnc",
        "national_level": "3",
        "rqf_level": 3,
        "sector": "health",
        "isco_code": "5322",
        "learning_outcomes": [
            "Asiste en las actividades de la vida diaria respetando la dignidad de la persona",
            "Reconoce signos de alarma y aplica primeros auxilios",
            "Registra y comunica la evolución de la persona cuidada",
        ],
        "notional_workload_hours": 150,
        "assessment_type": "Evaluación práctica supervisada y portafolio",
        "quality_assurance": "Aseguramiento de la calidad de la USAC",
        "participation_form": "mixta (presencial y en línea)",
        "validity": "P3Y",
        "languages": ["es"],
        "achievement_type": "MicroCredential",
    },
]


async def seed_demo(services) -> dict:
    from node.issuance.repository import IssuanceRepository
    from node.issuance.service import IssuanceService

    service = IssuanceService.from_services(services)
    created = {"institutions": [], "templates": []}
    async with services.uow() as uow:
        repo = IssuanceRepository(uow.session)
        have_institutions = {i.slug for i in await repo.institutions()}
        have_templates = {t.id for t in await repo.templates()}
    for data in INSTITUTIONS:
        if data["slug"] not in have_institutions:
            await service.create_institution(data["slug"], data["name"], scope=data["scope"], logo_url=data["logo_url"],
                                             url=data["url"])
            created["institutions"].append(data["slug"])
    for data in TEMPLATES:
        if data["id"] not in have_templates:
            await service.create_template(data)
            created["templates"].append(data["id"])
    return created
