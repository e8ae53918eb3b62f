"""core_webservice_get_site_info: who the token is and what it may call (feature detection)."""

from __future__ import annotations

from typing import Any

from .context import Call
from .registry import ExternalFunction, register, service_functions
from .schema import (
    ALPHANUMEXT,
    BOOL,
    DEFAULT,
    INT,
    OPTIONAL,
    RAW,
    TEXT,
    URL,
    Multiple,
    Single,
    opt,
    req,
)

ADVANCED_FEATURES = (("usecomments", 1), ("usetags", 1), ("enablenotes", 1), ("messaging", 1), ("enableblogs", 1),
                     ("enablecompletion", 1), ("enablebadges", 1), ("messagingallusers", 0),
                     ("enablecustomreports", 1), ("enableglobalsearch", 0), ("mnet_dispatcher_mode", 0),
                     ("enablecompetencies", 1))

RETURNS = Single({
    "sitename": req(RAW), "username": req(RAW), "firstname": req(TEXT), "lastname": req(TEXT),
    "fullname": req(TEXT), "lang": req("lang"), "userid": req(INT), "siteurl": req(RAW),
    "userpictureurl": req(URL),
    "functions": Multiple(Single({"name": req(RAW), "version": req(TEXT)})),
    "downloadfiles": opt(INT), "uploadfiles": opt(INT), "release": opt(TEXT), "version": opt(TEXT),
    "mobilecssurl": opt(URL),
    "advancedfeatures": Multiple(Single({"name": req(ALPHANUMEXT), "value": req(INT)}), OPTIONAL),
    "usercanmanageownfiles": opt(BOOL), "userquota": opt(INT), "usermaxuploadfilesize": opt(INT),
    "userhomepage": opt(INT), "userhomepageurl": opt(URL), "userprivateaccesskey": opt(ALPHANUMEXT),
    "siteid": opt(INT), "sitecalendartype": opt("plugin"), "usercalendartype": opt("plugin"),
    "userissiteadmin": opt(BOOL), "theme": opt("theme"), "limitconcurrentlogins": opt(INT),
    "usersessionscount": opt(INT), "policyagreed": opt(INT),
})


def site_info(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    config, user = call.config, call.user
    return {
        "sitename": call.sim.site_name, "username": user.username, "firstname": user.firstname,
        "lastname": user.lastname, "fullname": user.fullname, "lang": "en", "userid": user.id,
        "siteurl": call.wwwroot, "userpictureurl": f"{call.wwwroot}/theme/image.php/boost/core/{config.theme_rev}/u/f1",
        "functions": [{"name": f.name, "version": f.version(config)} for f in service_functions(config)],
        "downloadfiles": 0, "uploadfiles": int(config.upload_enabled), "release": config.moodle.release,
        "version": config.moodle.version, "mobilecssurl": "",
        "advancedfeatures": [{"name": n, "value": v} for n, v in ADVANCED_FEATURES],
        "usercanmanageownfiles": True, "userquota": 104857600, "usermaxuploadfilesize": 2097152,
        "userhomepage": 1, "userprivateaccesskey": "REDACTED", "siteid": 1, "sitecalendartype": "gregorian",
        "usercalendartype": "gregorian", "userissiteadmin": False, "theme": "boost", "limitconcurrentlogins": 0,
        "policyagreed": 0,
    }


register(ExternalFunction("core_webservice_get_site_info", "moodle", "read",
                          Single({"serviceshortnames": Multiple(req(ALPHANUMEXT), DEFAULT, [])}),
                          RETURNS, site_info))
