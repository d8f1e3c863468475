from datetime import timedelta

from node.crypto.keys import KeyPair
from node.issuance.verify import verify_credential
from tests.integration.issuance.conftest import INTECAP_TEMPLATE

ROW = {"given_name": "Ana", "family_name": "López", "identifier": "ana@example.org"}


def verdicts(result):
    return {c.check: (c.ok, c.reason) for c in result.checks if c.check in ("status", "accreditation", "schema", "validity")}


async def test_accreditation_on_the_issue_date_and_within_scope(issuance, services):
    credential = (await issuance.issue_one("intecap-albanileria-2", ROW)).to_json()
    result = await verify_credential(services, credential)
    assert result.verified and verdicts(result)["accreditation"] == (True, None)

    await issuance.update_accreditation("intecap", scope={"sectors": ["hospitality"]})
    result = await verify_credential(services, credential)
    assert verdicts(result)["accreditation"] == (False, "out_of_scope")

    await issuance.update_accreditation("intecap", scope={"sectors": ["construction"]},
                                        accredited_from=services.clock.now() + timedelta(days=1))
    result = await verify_credential(services, credential)
    assert verdicts(result)["accreditation"] == (False, "not_accredited")


async def test_unknown_issuer_expired_and_schema_failures(issuance, services):
    from node.crypto.data_integrity import add_proof

    credential = (await issuance.issue_one("intecap-albanileria-2", ROW)).to_json()
    stranger = KeyPair.generate()
    unsigned = {k: v for k, v in credential.items() if k != "proof"}
    unsigned["issuer"] = {"id": stranger.controller, "type": ["Profile"], "name": "Unknown"}
    del unsigned["credentialStatus"]
    foreign = add_proof(unsigned, stranger, suite="eddsa-jcs-2022")
    result = await verify_credential(services, foreign)
    assert verdicts(result)["accreditation"] == (False, "unknown_issuer") and not result.verified

    unsigned["credentialSubject"] = dict(unsigned["credentialSubject"], type="AchievementSubject")
    bad_schema = add_proof(unsigned, stranger, suite="eddsa-jcs-2022")
    assert verdicts(await verify_credential(services, bad_schema))["schema"] == (False, "schema_invalid")

    services.clock.advance(days=366 * 5 + 2)  # the template's validity is P5Y
    result = await verify_credential(services, credential)
    assert verdicts(result)["validity"] == (False, "expired") and not result.verified


async def test_a_credential_issued_in_the_second_of_accreditation_reads_accredited(services):
    """validFrom has whole seconds; an accreditation stamped with microseconds (12:00:00.25) made a credential
    issued in that same second (validFrom 12:00:00) read as issued before the accreditation."""
    from node.issuance.service import IssuanceService

    services.clock.at = services.clock.at.replace(microsecond=250_000)
    issuance = IssuanceService.from_services(services)
    institution = await issuance.create_institution("intecap", "INTECAP", scope={"sectors": ["construction"], "rqf_levels": [2]})
    assert institution.accredited_from.microsecond == 0  # stored at the precision credentials carry
    await issuance.create_template(INTECAP_TEMPLATE)
    credential = (await issuance.issue_one("intecap-albanileria-2", ROW)).to_json()
    result = await verify_credential(services, credential)
    assert result.verified and verdicts(result)["accreditation"] == (True, None)

    # An explicit accreditation start given with microseconds is stored at second precision too.
    await issuance.update_accreditation("intecap", accredited_from=services.clock.now())
    result = await verify_credential(services, credential)
    assert result.verified and verdicts(result)["accreditation"] == (True, None)


async def test_an_achievement_that_is_not_one_of_the_issuers_templates_is_refused(issuance, services):
    """The accreditation stage reads the institution and the template in one statement; a credential whose
    achievement is another institution's template, or no template at all, stays unknown_achievement."""
    from node.crypto.data_integrity import add_proof

    await issuance.create_institution("otra", "Otra", scope={"sectors": ["construction"], "rqf_levels": [2]})
    await issuance.create_template(dict(INTECAP_TEMPLATE, id="otra-albanileria-2", institution="otra"))
    credential = (await issuance.issue_one("intecap-albanileria-2", ROW)).to_json()
    key = await services.keystore.signing_key(credential["issuer"]["id"])
    own_id = credential["credentialSubject"]["achievement"]["id"]
    for achievement_id in (own_id.replace("intecap-albanileria-2", "otra-albanileria-2"),
                           own_id.replace("intecap-albanileria-2", "no-such-template")):
        unsigned = {k: v for k, v in credential.items() if k != "proof"}
        subject = dict(unsigned["credentialSubject"])
        subject["achievement"] = dict(subject["achievement"], id=achievement_id)
        unsigned["credentialSubject"] = subject
        result = await verify_credential(services, add_proof(unsigned, key, suite="eddsa-jcs-2022"))
        assert verdicts(result)["accreditation"] == (False, "unknown_achievement") and not result.verified
