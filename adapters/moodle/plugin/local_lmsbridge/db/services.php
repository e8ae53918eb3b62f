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
 * Web-service functions of local_lmsbridge and the pre-built "lms_bridge" service.
 *
 * The functions implement adapters/moodle/plugin/CONTRACT.md. The service lists them together
 * with the core functions the lms_bridge adapter calls, so that one token covers everything.
 *
 * @package    local_lmsbridge
 * @copyright  2026 lms_bridge contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$functions = [
    'local_lmsbridge_upsert_activity' => [
        'classname' => 'local_lmsbridge\external\upsert_activity',
        'methodname' => 'execute',
        'description' => 'Create or update an assign or quiz, found by its course-module idnumber, '
            . 'with its section, dates and exam settings.',
        'type' => 'write',
        'capabilities' => 'moodle/course:manageactivities, mod/assign:addinstance, mod/quiz:addinstance, '
            . 'moodle/course:activityvisibility',
        'ajax' => false,
    ],
    'local_lmsbridge_get_activities' => [
        'classname' => 'local_lmsbridge\external\get_activities',
        'methodname' => 'execute',
        'description' => 'The activities lms_bridge created in a course (by idnumber prefix) with their stored '
            . 'settings and availability, and every section with its availability.',
        'type' => 'read',
        'capabilities' => 'moodle/course:manageactivities',
        'ajax' => false,
    ],
    'local_lmsbridge_update_section' => [
        'classname' => 'local_lmsbridge\external\update_section',
        'methodname' => 'execute',
        'description' => 'Set a section\'s name, summary, visibility and availability, creating it if missing.',
        'type' => 'write',
        'capabilities' => 'moodle/course:update, moodle/course:sectionvisibility',
        'ajax' => false,
    ],
    'local_lmsbridge_set_availability' => [
        'classname' => 'local_lmsbridge\external\set_availability',
        'methodname' => 'execute',
        'description' => 'Set or clear a course module\'s availability (restrict access) JSON.',
        'type' => 'write',
        'capabilities' => 'moodle/course:manageactivities',
        'ajax' => false,
    ],
    'local_lmsbridge_attach_paper' => [
        'classname' => 'local_lmsbridge\external\attach_paper',
        'methodname' => 'execute',
        'description' => 'Put the exam paper from a draft upload into a File resource, hidden until release '
            . 'by a date restriction; found by idnumber, the file is replaced only when its content differs.',
        'type' => 'write',
        'capabilities' => 'moodle/course:manageactivities, mod/resource:addinstance',
        'ajax' => false,
    ],
    'local_lmsbridge_save_assign_overrides' => [
        'classname' => 'local_lmsbridge\external\save_assign_overrides',
        'methodname' => 'execute',
        'description' => 'Create or update assignment user/group overrides (core has this only from Moodle 5.3).',
        'type' => 'write',
        'capabilities' => 'mod/assign:manageoverrides',
        'ajax' => false,
    ],
    'local_lmsbridge_get_assign_overrides' => [
        'classname' => 'local_lmsbridge\external\get_assign_overrides',
        'methodname' => 'execute',
        'description' => 'List an assignment\'s user/group overrides (core has this only from Moodle 5.3).',
        'type' => 'read',
        'capabilities' => 'mod/assign:manageoverrides',
        'ajax' => false,
    ],
    'local_lmsbridge_delete_assign_overrides' => [
        'classname' => 'local_lmsbridge\external\delete_assign_overrides',
        'methodname' => 'execute',
        'description' => 'Delete assignment user/group overrides (core has this only from Moodle 5.3).',
        'type' => 'write',
        'capabilities' => 'mod/assign:manageoverrides',
        'ajax' => false,
    ],
];

$services = [
    'lms_bridge' => [
        'shortname' => 'lms_bridge',
        'functions' => [
            // This plugin.
            'local_lmsbridge_upsert_activity',
            'local_lmsbridge_get_activities',
            'local_lmsbridge_update_section',
            'local_lmsbridge_set_availability',
            'local_lmsbridge_attach_paper',
            'local_lmsbridge_save_assign_overrides',
            'local_lmsbridge_get_assign_overrides',
            'local_lmsbridge_delete_assign_overrides',
            // Core functions the lms_bridge adapter uses.
            'core_webservice_get_site_info',
            'core_course_get_contents',
            'core_course_get_course_module',
            'core_enrol_get_enrolled_users',
            'mod_assign_get_assignments',
            'mod_assign_save_user_extensions',
            'mod_assign_get_user_flags',
            'mod_quiz_get_quizzes_by_courses',
            'mod_quiz_save_overrides',
            'mod_quiz_get_overrides',
            'mod_quiz_delete_overrides',
            'core_courseformat_update_course',
            'core_update_inplace_editable',
            // Clarifications to candidates: discussions in the course's Announcements forum.
            'mod_forum_get_forums_by_courses',
            'mod_forum_get_forum_discussions',
            'mod_forum_add_discussion',
        ],
        'requiredcapability' => '',
        // Only the users an administrator authorises may use it (Site administration > Server >
        // Web services > External services > lms_bridge > Authorised users).
        'restrictedusers' => 1,
        'enabled' => 1,
        // The exam paper reaches Moodle through webservice/upload.php, which needs this.
        'uploadfiles' => 1,
        'downloadfiles' => 0,
    ],
];
