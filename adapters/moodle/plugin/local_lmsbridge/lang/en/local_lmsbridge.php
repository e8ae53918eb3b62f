<?php
// This file is part of Moodle - https://moodle.org/
//
// Moodle is free software: you can redistribute it and/or modify
// it under the terms of the GNU General Public License as published by
// the Free Software Foundation, either version 3 of the License, or
// (at your option) any later version.
//
// Moodle is distributed in the hope that it will be useful,
// but WITHOUT ANY WARRANTY; without even the implied warranty of
// MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
// GNU General Public License for more details.
//
// You should have received a copy of the GNU General Public License
// along with Moodle.  If not, see <https://www.gnu.org/licenses/>.

/**
 * English strings for local_lmsbridge.
 *
 * The err_* strings are the reasons given in the debuginfo of invalidparameter errors; the
 * adapter and the simulator rely on the texts named in CONTRACT.md ("... belongs to a ...",
 * "timeclose before timeopen", "draft area N is empty").
 *
 * @package    local_lmsbridge
 * @copyright  2026 lms_bridge contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

$string['err_availabilityjson'] = 'availability is not valid JSON (a JSON object is expected)';
$string['err_availabilitytree'] = 'availability is not a valid restriction: {$a}';
$string['err_busy'] = 'Another request is writing {$a} in this course; try again.';
$string['err_closebeforeopen'] = 'timeclose before timeopen';
$string['err_cutoffbeforedue'] = 'cutoffdate before duedate';
$string['err_cutoffbeforeopen'] = 'cutoffdate before allowsubmissionsfromdate';
$string['err_delegatedsection'] = 'section {$a->section} belongs to {$a->component} and cannot be changed here';
$string['err_draftempty'] = 'draft area {$a} is empty';
$string['err_duebeforeopen'] = 'duedate before allowsubmissionsfromdate';
$string['err_idnumberempty'] = 'idnumber must not be empty';
$string['err_idnumbertaken'] = 'idnumber {$a->idnumber} belongs to a {$a->modname}';
$string['err_idnumbertoolong'] = 'idnumber is longer than {$a} characters';
$string['err_modname'] = 'modname must be assign or quiz, not "{$a}"';
$string['err_nameempty'] = 'name must not be empty';
$string['err_nametoolong'] = 'name is longer than {$a} characters';
$string['err_negative'] = '{$a} must not be negative';
$string['err_notboolean'] = '{$a} must be 0 or 1';
$string['err_quizsettings'] = 'the quiz refused these settings: {$a}';
$string['err_section0hidden'] = 'section 0 cannot be hidden';
$string['err_sectionnegative'] = 'section must not be negative';
$string['err_settingsnotapplicable'] = 'settings {$a->keys} do not apply to a {$a->modname}';
$string['err_sitecourse'] = 'the site front page is not a course lms_bridge can write to';
$string['nooverridedata'] = 'You must override at least one of the assignment settings.';
$string['overridecannotchange'] = 'The user or group cannot be changed after an override is created.';
$string['overridecannotsetbothgroupanduser'] = 'Both group and user cannot be set at the same time.';
$string['overridecutoffbeforedue'] = 'Cut-off date cannot be earlier than the due date.';
$string['overridecutoffbeforeopen'] = 'Cut-off date cannot be earlier than the allow submissions from date.';
$string['overrideduebeforeopen'] = 'Due date must be after the allow submissions from date.';
$string['overrideinvalidexistingid'] = 'Existing override doesn\'t exist.';
$string['overrideinvalidgroup'] = 'Group given doesn\'t exist.';
$string['overrideinvalidtimelimit'] = 'Time limit must be greater than zero.';
$string['overrideinvaliduser'] = 'User given doesn\'t exist.';
$string['overridemissingdelete'] = 'Override ID(s) {$a} couldn\'t be deleted because they don\'t exist or are not a part of the given assignment.';
$string['overridemultiplerecordsexist'] = 'Multiple overrides cannot be made for the same user/group.';
$string['overridemustsetuserorgroup'] = 'A user or group must be set.';
$string['pluginname'] = 'LMS Bridge web services';
$string['privacy:metadata'] = 'The LMS Bridge web services plugin stores no personal data of its own. What it writes (activities, sections, files, assignment overrides) is stored by Moodle core and the activity modules, whose privacy providers cover it.';
$string['warn_availabilitydisabled'] = 'Restrict access (enableavailability) is off on this site: availability restrictions are stored but not applied.';
$string['warn_duplicateidnumber'] = 'Several course modules carry idnumber {$a}; the oldest one was used.';
$string['warn_gradingduebeforedue'] = 'The assignment\'s "remind me to grade by" date is before its due date.';
$string['warn_paperhidden'] = 'Restrict access is off on this site, so the release date cannot hide the paper: it was created hidden. Show it by hand at release time.';
$string['warn_timelimitdisabled'] = 'Timed assignments (assign/enabletimelimit) are off on this site: the time limit is stored but not enforced.';
