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

use core_text;
use invalid_parameter_exception;
use moodle_exception;
use stdClass;

/**
 * Small helpers shared by the plugin's web-service functions.
 *
 * @package    local_lmsbridge
 * @copyright  2026 lms_bridge contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class util {

    /** @var int Length of course_modules.idnumber (lib/db/install.xml). */
    public const IDNUMBER_MAXLENGTH = 100;

    /** @var int Length of the name column of assign, quiz, resource and course_sections. */
    public const NAME_MAXLENGTH = 255;

    /**
     * A validation error the way core reports one.
     *
     * Core's own checks throw invalid_parameter_exception with the reason as debuginfo (errorcode
     * "invalidparameter", message "Invalid parameter value detected"), e.g. the quiz override
     * manager (mod/quiz/classes/local/override_manager.php save_override()) and the recorded
     * Moodle 4.5.6 answers in moodle-fixtures 53-55.
     *
     * @param string $identifier lang string in local_lmsbridge giving the reason
     * @param mixed $a lang string argument
     * @return invalid_parameter_exception
     */
    public static function invalid(string $identifier, $a = null): invalid_parameter_exception {
        return new invalid_parameter_exception(get_string($identifier, 'local_lmsbridge', $a));
    }

    /**
     * One entry for an external_warnings list.
     *
     * @param string $warningcode short code (PARAM_ALPHANUM)
     * @param string $identifier lang string in local_lmsbridge
     * @param mixed $a lang string argument
     * @param string $item what the warning is about
     * @param int $itemid id of that item
     * @return array
     */
    public static function warning(string $warningcode, string $identifier, $a = null, string $item = '',
            int $itemid = 0): array {
        return [
            'item' => $item,
            'itemid' => $itemid,
            'warningcode' => $warningcode,
            'message' => get_string($identifier, 'local_lmsbridge', $a),
        ];
    }

    /**
     * Trims and checks an idnumber lms_bridge uses as its stable tag.
     *
     * @param string $idnumber as given
     * @return string the trimmed idnumber
     * @throws invalid_parameter_exception if empty or too long for course_modules.idnumber
     */
    public static function clean_idnumber(string $idnumber): string {
        $idnumber = trim($idnumber);
        if ($idnumber === '') {
            throw self::invalid('err_idnumberempty');
        }
        if (core_text::strlen($idnumber) > self::IDNUMBER_MAXLENGTH) {
            throw self::invalid('err_idnumbertoolong', self::IDNUMBER_MAXLENGTH);
        }
        return $idnumber;
    }

    /**
     * Trims and checks an activity or section name.
     *
     * @param string $name as given
     * @param bool $allowempty whether '' is acceptable (a section may use its default name)
     * @return string the trimmed name
     * @throws invalid_parameter_exception if empty (unless allowed) or too long
     */
    public static function clean_name(string $name, bool $allowempty = false): string {
        $name = trim($name);
        if ($name === '' && !$allowempty) {
            throw self::invalid('err_nameempty');
        }
        if (core_text::strlen($name) > self::NAME_MAXLENGTH) {
            throw self::invalid('err_nametoolong', self::NAME_MAXLENGTH);
        }
        return $name;
    }

    /**
     * Refuses section numbers below 0.
     *
     * @param int $section section number
     * @return int the same number
     * @throws invalid_parameter_exception
     */
    public static function check_section(int $section): int {
        if ($section < 0) {
            throw self::invalid('err_sectionnegative');
        }
        return $section;
    }

    /**
     * Loads a course the way core's web services do, refusing the site front page.
     *
     * get_course() uses MUST_EXIST, so an unknown id fails with dml_missing_record_exception
     * ("invalidrecord", "Can't find data record in database table course.") like
     * core_course_get_contents does (moodle-fixtures 49).
     *
     * @param int $courseid course id
     * @return stdClass course record
     */
    public static function get_course(int $courseid): stdClass {
        $course = get_course($courseid);
        if ((int)$course->id === (int)SITEID) {
            throw self::invalid('err_sitecourse');
        }
        return $course;
    }

    /**
     * Finds the course module carrying an idnumber in a course.
     *
     * Core does not enforce idnumber uniqueness in the database (only the module form does), so
     * more than one match is possible after manual edits; the oldest wins and a warning says so.
     *
     * @param int $courseid course id
     * @param string $idnumber course module idnumber
     * @param array $warnings external warnings, appended to
     * @return stdClass|null course_modules record plus modname, or null
     */
    public static function find_cm_by_idnumber(int $courseid, string $idnumber, array &$warnings): ?stdClass {
        global $DB;
        $sql = "SELECT cm.*, m.name AS modname
                  FROM {course_modules} cm
                  JOIN {modules} m ON m.id = cm.module
                 WHERE cm.course = :courseid
                   AND cm.idnumber = :idnumber
                   AND cm.deletioninprogress = 0
              ORDER BY cm.id ASC";
        $records = $DB->get_records_sql($sql, ['courseid' => $courseid, 'idnumber' => $idnumber]);
        if (!$records) {
            return null;
        }
        if (count($records) > 1) {
            $warnings[] = self::warning('duplicateidnumber', 'warn_duplicateidnumber', $idnumber, 'idnumber');
        }
        return reset($records);
    }

    /**
     * Takes the lock that makes an idnumber upsert safe against a concurrent retry.
     *
     * Without it, two retries arriving together could both miss the idnumber and both create an
     * activity. Uses core's lock API (lib/classes/lock/lock_config.php).
     *
     * @param int $courseid course id
     * @param string $idnumber idnumber being written
     * @return \core\lock\lock the lock; release() it when done
     * @throws moodle_exception if the lock cannot be had within 10 seconds
     */
    public static function lock_idnumber(int $courseid, string $idnumber): \core\lock\lock {
        $factory = \core\lock\lock_config::get_lock_factory('local_lmsbridge');
        $lock = $factory->get_lock('idnumber_' . $courseid . '_' . sha1($idnumber), 10);
        if (!$lock) {
            throw new moodle_exception('err_busy', 'local_lmsbridge', '', $idnumber);
        }
        return $lock;
    }

    /**
     * Moves a course module to the end of a section, creating the section if it is missing.
     *
     * Uses moveto_module() from course/lib.php, which is what course/mod.php and the course
     * editor's cm_move state action end up calling.
     *
     * @param stdClass $course course record
     * @param int $cmid course module id
     * @param int $sectionnum target section number
     * @return bool whether the module was moved
     */
    public static function move_to_section(stdClass $course, int $cmid, int $sectionnum): bool {
        global $CFG, $DB;
        require_once($CFG->dirroot . '/course/lib.php');

        $cm = $DB->get_record('course_modules', ['id' => $cmid], '*', MUST_EXIST);
        $current = $DB->get_field('course_sections', 'section', ['id' => $cm->section]);
        if ($current !== false && (int)$current === $sectionnum) {
            return false;
        }
        self::ensure_section($course, $sectionnum);
        $sectioninfo = get_fast_modinfo($course)->get_section_info($sectionnum, MUST_EXIST);
        moveto_module($cm, $sectioninfo);
        rebuild_course_cache($course->id, true);
        return true;
    }

    /**
     * Creates a section number if the course does not have it yet (and the ones before it).
     *
     * Moodle 4.4+ has core_courseformat\formatactions::section()->create_if_missing(), which
     * course/modlib.php can_add_moduleinfo() uses; course_create_sections_if_missing() is the
     * older equivalent.
     *
     * @param stdClass $course course record
     * @param int $sectionnum section number
     */
    public static function ensure_section(stdClass $course, int $sectionnum): void {
        global $CFG;
        require_once($CFG->dirroot . '/course/lib.php');
        if (get_fast_modinfo($course)->get_section_info($sectionnum)) {
            return;
        }
        if (class_exists(\core_courseformat\formatactions::class)) {
            \core_courseformat\formatactions::section($course)->create_if_missing([$sectionnum]);
        } else {
            course_create_sections_if_missing($course, $sectionnum);
        }
    }
}
