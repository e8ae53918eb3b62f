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

namespace local_lmsbridge\local;

use context_course;
use core_external\external_api;

/**
 * Reads back everything lms_bridge created in a course in one call (get_activities).
 *
 * Core can read these values only in several calls and partly not at all: the instance dates
 * from mod_assign_get_assignments / mod_quiz_get_quizzes_by_courses are the caller's effective
 * values, and core_course_get_contents never returns a section's availability JSON
 * (moodle-ws.md §1.1, §6.3). This reads the records themselves.
 *
 * @package    local_lmsbridge
 * @copyright  2026 lms_bridge contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class activity_reader {

    /**
     * Lists the course modules whose idnumber starts with a prefix, and every section.
     *
     * @param int $courseid course id
     * @param string $idnumberprefix idnumber prefix, e.g. "lmsbridge:"
     * @return array ['activities', 'sections', 'warnings']
     */
    public static function get(int $courseid, string $idnumberprefix): array {
        global $CFG, $DB;

        $course = util::get_course($courseid);
        $context = context_course::instance($course->id);
        external_api::validate_context($context);
        require_capability('moodle/course:manageactivities', $context);

        $warnings = [];
        if (empty($CFG->enableavailability)) {
            $warnings[] = util::warning('availabilitydisabled', 'warn_availabilitydisabled', null, 'course', $course->id);
        }

        $like = $DB->sql_like('cm.idnumber', ':prefix');
        $sql = "SELECT cm.id, cm.instance, cm.idnumber, cm.visible, cm.availability, cm.section AS sectionid,
                       cs.section AS sectionnum, m.name AS modname
                  FROM {course_modules} cm
                  JOIN {modules} m ON m.id = cm.module
                  JOIN {course_sections} cs ON cs.id = cm.section
                 WHERE cm.course = :courseid
                   AND cm.deletioninprogress = 0
                   AND cm.idnumber <> ''
                   AND $like
              ORDER BY cs.section ASC, cm.id ASC";
        $cms = $DB->get_records_sql($sql, [
            'courseid' => $course->id,
            'prefix' => $DB->sql_like_escape($idnumberprefix) . '%',
        ]);

        // One query per module type for the instance records.
        $instanceids = [];
        foreach ($cms as $cm) {
            $instanceids[$cm->modname][] = (int)$cm->instance;
        }
        $instances = [];
        foreach ($instanceids as $modname => $ids) {
            $instances[$modname] = $DB->get_records_list($modname, 'id', $ids);
        }

        $activities = [];
        foreach ($cms as $cm) {
            $instance = $instances[$cm->modname][$cm->instance] ?? null;
            if (!$instance) {
                continue;
            }
            $activities[] = [
                'cmid' => (int)$cm->id,
                'instance' => (int)$cm->instance,
                'modname' => $cm->modname,
                'idnumber' => $cm->idnumber,
                'name' => $instance->name,
                'section' => (int)$cm->sectionnum,
                'sectionid' => (int)$cm->sectionid,
                'visible' => (int)$cm->visible,
                'settings' => activity_settings::read($cm->modname, $instance),
                'availability' => self::text_or_null($cm->availability),
            ];
        }

        $sections = [];
        foreach ($DB->get_records('course_sections', ['course' => $course->id], 'section ASC') as $section) {
            $sections[] = [
                'id' => (int)$section->id,
                'section' => (int)$section->section,
                'name' => (string)$section->name,
                'summary' => (string)$section->summary,
                'visible' => (int)$section->visible,
                'availability' => self::text_or_null($section->availability),
            ];
        }

        return ['activities' => $activities, 'sections' => $sections, 'warnings' => $warnings];
    }

    /**
     * Stored availability as text, or null when there is none.
     *
     * @param string|null $value column value
     * @return string|null
     */
    protected static function text_or_null(?string $value): ?string {
        return ($value === null || $value === '') ? null : $value;
    }
}
