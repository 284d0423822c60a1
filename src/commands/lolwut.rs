//! LOLWUT: a piece of computer art and the version, as Redis's `lolwut*.c`
//! draws them. Which piece depends on the version: Redis 5's is Georg
//! Nees's "Schotter" (squares that fall into disorder row by row), Redis
//! 6's an 8-bit city skyline; any other version, the server's own (7.0.15)
//! included, gets only the version line. `VERSION v` picks another
//! version's piece.
//!
//! Both pieces are random (Redis seeds `rand()` from the time and its pid),
//! so only their shape can match Redis's, and whatever chance does not
//! touch: Schotter's first two rows of squares, every length.

use crate::error::CommandResult;
use crate::rng::Rng;

use super::Ctx;
use super::args;
use super::table::{Command, flags::*};

/// The version LOLWUT reports.
const VERSION: &str = crate::REDIS_VERSION;

/// `LOLWUT [VERSION version] [piece-specific arguments]`
fn lolwut(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let (version, rest) = if args.len() >= 3 && args::is(&args[1], "version") {
        // Redis prints the number as a C `unsigned int` and compares the
        // text "N.0.0" with "5." and "6.": only 5 and 6 pick a piece.
        (Some(args::int(&args[2])? as u32), &args[3..])
    } else {
        (None, &args[1..])
    };
    let text = match version {
        Some(5) => schotter_command(rest)?,
        Some(6) => skyline_command(rest)?,
        _ => format!("Redis ver. {VERSION}\n"),
    };
    ctx.out.verbatim(text.as_bytes());
    Ok(())
}

/// An optional numeric argument, clamped to `min..=max` as Redis clamps
/// it after reading it as a `long`.
fn clamped(arg: Option<&Vec<u8>>, default: i64, min: i64, max: i64) -> CommandResult<i64> {
    Ok(match arg {
        Some(arg) => args::int(arg)?.clamp(min, max),
        None => default,
    })
}

/// A grid of pixels, each one of four colours (0 black ... 3 white).
struct Canvas {
    width: i32,
    height: i32,
    pixels: Vec<u8>,
}

impl Canvas {
    fn new(width: i32, height: i32, background: u8) -> Canvas {
        Canvas {
            width,
            height,
            pixels: vec![background; (width.max(0) as usize) * (height.max(0) as usize)],
        }
    }

    fn set(&mut self, x: i32, y: i32, color: u8) {
        if (0..self.width).contains(&x) && (0..self.height).contains(&y) {
            self.pixels[(x + y * self.width) as usize] = color;
        }
    }

    fn get(&self, x: i32, y: i32) -> u8 {
        if (0..self.width).contains(&x) && (0..self.height).contains(&y) {
            self.pixels[(x + y * self.width) as usize]
        } else {
            0
        }
    }

    /// Bresenham's line, both ends included.
    fn line(&mut self, (mut x1, mut y1): (i32, i32), (x2, y2): (i32, i32), color: u8) {
        let (dx, dy) = ((x2 - x1).abs(), (y2 - y1).abs());
        let sx = if x1 < x2 { 1 } else { -1 };
        let sy = if y1 < y2 { 1 } else { -1 };
        let mut err = dx - dy;
        loop {
            self.set(x1, y1, color);
            if x1 == x2 && y1 == y2 {
                break;
            }
            let e2 = err * 2;
            if e2 > -dy {
                err -= dy;
                x1 += sx;
            }
            if e2 < dx {
                err += dx;
                y1 += sy;
            }
        }
    }

    /// A square of side `size` centred on (x, y), turned by `angle`. The
    /// arithmetic keeps C's mix of `float` and `double` so that the
    /// corners land on the same pixels as in Redis.
    fn square(&mut self, x: i32, y: i32, size: f32, angle: f32, color: u8) {
        // The square inscribed in a circle of radius 1 has side sqrt(2),
        // written to Redis's ten decimals (the exact constant could move a
        // corner by a pixel).
        #[allow(clippy::approx_constant)]
        let size = (f64::from(size) / 1.4142135623) as f32;
        let size = f64::from(size).round() as f32;
        let mut k = (std::f64::consts::FRAC_PI_4 + f64::from(angle)) as f32;
        let mut corners = [(0, 0); 4];
        for corner in &mut corners {
            let k64 = f64::from(k);
            *corner = (
                (k64.sin() * f64::from(size) + f64::from(x)).round() as i32,
                (k64.cos() * f64::from(size) + f64::from(y)).round() as i32,
            );
            k = (f64::from(k) + std::f64::consts::FRAC_PI_2) as f32;
        }
        for j in 0..4 {
            self.line(corners[j], corners[(j + 1) % 4], color);
        }
    }
}

/// C's `rand()`: 0..=RAND_MAX.
fn rand(rng: &mut Rng) -> i32 {
    rng.below(1 << 31) as i32
}

const RAND_MAX: f32 = 2147483647.0;

/// `LOLWUT VERSION 5 [columns] [squares-per-row] [squares-per-col]`
fn schotter_command(args: &[Vec<u8>]) -> CommandResult<String> {
    let cols = clamped(args.first(), 66, 1, 1000)? as i32;
    let per_row = clamped(args.get(1), 8, 1, 200)? as i32;
    let per_col = clamped(args.get(2), 12, 1, 200)? as i32;
    let canvas = schotter(cols, per_row, per_col, &mut Rng::new());
    let mut text = braille(&canvas);
    text.push_str("\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. ");
    text.push_str(VERSION);
    text.push('\n');
    Ok(text)
}

/// Schotter: rows of squares, the ones below the second row turned and
/// moved at random, more so the lower they are.
fn schotter(console_cols: i32, per_row: i32, per_col: i32, rng: &mut Rng) -> Canvas {
    let width = console_cols * 2;
    let padding = if width > 4 { 2 } else { 0 };
    let side = (width - padding * 2) as f32 / per_row as f32;
    let height = (side * per_col as f32 + (padding * 2) as f32) as i32;
    let mut canvas = Canvas::new(width, height, 0);
    for y in 0..per_col {
        for x in 0..per_row {
            let mut sx = (x as f32 * side + side / 2.0 + padding as f32) as i32;
            let mut sy = (y as f32 * side + side / 2.0 + padding as f32) as i32;
            let mut angle = 0.0f32;
            if y > 1 {
                let mut r = [0.0f32; 3];
                for r in &mut r {
                    *r = rand(rng) as f32 / RAND_MAX / per_col as f32 * y as f32;
                }
                for r in &mut r {
                    if rand(rng) % 2 == 1 {
                        *r = -*r;
                    }
                }
                angle = r[0];
                sx = (sx as f32 + r[1] * side / 3.0) as i32;
                sy = (sy as f32 + r[2] * side / 3.0) as i32;
            }
            canvas.square(sx, sy, side, angle, 1);
        }
    }
    canvas
}

/// The canvas in Braille characters, each 2 pixels wide and 4 tall.
fn braille(canvas: &Canvas) -> String {
    let mut text = String::new();
    for y in (0..canvas.height).step_by(4) {
        for x in (0..canvas.width).step_by(2) {
            // Braille's dot numbering: the left column top to bottom is
            // bits 0, 1, 2, 6; the right column 3, 4, 5, 7.
            let dots = [
                (0, 0, 0),
                (0, 1, 1),
                (0, 2, 2),
                (1, 0, 3),
                (1, 1, 4),
                (1, 2, 5),
                (0, 3, 6),
                (1, 3, 7),
            ];
            let bits = dots
                .iter()
                .filter(|&&(dx, dy, _)| canvas.get(x + dx, y + dy) != 0)
                .fold(0u32, |bits, &(_, _, bit)| bits | 1 << bit);
            text.push(char::from_u32(0x2800 + bits).unwrap_or(' '));
        }
        if y != canvas.height - 1 {
            text.push('\n');
        }
    }
    text
}

/// `LOLWUT VERSION 6 [columns] [rows]`
fn skyline_command(args: &[Vec<u8>]) -> CommandResult<String> {
    let cols = clamped(args.first(), 80, 1, 1000)? as i32;
    let rows = clamped(args.get(1), 20, 1, 1000)? as i32;
    let mut canvas = Canvas::new(cols, rows, 3);
    skyline(&mut canvas, &mut Rng::new());
    let mut text = String::new();
    for y in 0..canvas.height {
        for x in 0..canvas.width {
            // Foreground and background both set, for the same look on
            // every terminal: the Game Boy's four greys.
            let escape = match canvas.get(x, y) {
                1 => "0;90;100m",
                2 => "0;37;47m",
                3 => "0;97;107m",
                _ => "0;30;40m",
            };
            text.push_str(&format!("\x1b[{escape} \x1b[0m"));
        }
        if y != canvas.height - 1 {
            text.push('\n');
        }
    }
    text.push_str(
        "\nDedicated to the 8 bit game developers of past and present.\n\
         Original 8 bit image from Plaguemon by hikikomori. Redis ver. ",
    );
    text.push_str(VERSION);
    text.push('\n');
    Ok(text)
}

/// One building of the skyline.
struct Skyscraper {
    xoff: i32,
    width: i32,
    height: i32,
    windows: bool,
    color: u8,
}

/// Draws a building from the bottom up; its roof is four pixels narrower,
/// its windows (two pixels wide, one tall) take one of the greys at random.
fn skyscraper(canvas: &mut Canvas, s: &Skyscraper, rng: &mut Rng) {
    let start_y = canvas.height - 1;
    let end_y = start_y - s.height + 1;
    for y in (end_y..=start_y).rev() {
        for x in s.xoff..s.xoff + s.width {
            if y == end_y && (x <= s.xoff + 1 || x >= s.xoff + s.width - 2) {
                continue;
            }
            let mut color = s.color;
            let inner = x > s.xoff + 1 && x < s.xoff + s.width - 2 && y > end_y + 1 && y < start_y - 1;
            if s.windows && inner {
                let rel_x = x - (s.xoff + 1);
                let rel_y = y - (end_y + 1);
                if (rel_x / 2) % 2 != 0 && rel_y % 2 != 0 {
                    loop {
                        color = 1 + (rand(rng) % 2) as u8;
                        if color != s.color {
                            break;
                        }
                    }
                    // Both pixels of a window have one colour.
                    if rel_x % 2 != 0 {
                        color = canvas.get(x - 1, y);
                    }
                }
            }
            canvas.set(x, y, color);
        }
    }
}

/// A skyline as in the parallax backgrounds of 8-bit games: two rows of
/// plain grey buildings, the lighter behind, then black ones with windows.
fn skyline(canvas: &mut Canvas, rng: &mut Rng) {
    let (width, height) = (canvas.width, canvas.height);
    for color in [2u8, 1] {
        let mut offset = -10;
        while offset < width {
            offset += rand(rng) % 8;
            let building_width = 10 + rand(rng) % 9;
            // C's precedence: `height/2 + rand()%height/2`.
            let building_height = if color == 2 {
                height / 2 + rand(rng) % height / 2
            } else {
                height / 2 + rand(rng) % height / 3
            };
            let s = Skyscraper {
                xoff: offset,
                width: building_width,
                height: building_height,
                windows: false,
                color,
            };
            skyscraper(canvas, &s, rng);
            offset += if color == 2 {
                building_width / 2
            } else {
                building_width + 1
            };
        }
    }
    let mut offset = -10;
    while offset < width {
        offset += rand(rng) % 8;
        let mut building_width = 5 + rand(rng) % 14;
        if building_width % 4 != 0 {
            building_width += building_width % 3;
        }
        let s = Skyscraper {
            xoff: offset,
            width: building_width,
            height: height / 3 + rand(rng) % height / 2,
            windows: true,
            color: 0,
        };
        skyscraper(canvas, &s, rng);
        offset += building_width + 5;
    }
}

// ---- Command table -----------------------------------------------------------

/// The commands this module serves; [`super::registry()`] gathers every
/// module's.
pub static COMMANDS: &[Command] = &[Command::new("lolwut", -1, lolwut)
    .syntax("[VERSION version:integer]")
    .flags(READONLY | FAST)
    .doc(
        "server",
        "5.0.0",
        "Display some computer art and the Redis version",
        "",
    )];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schotter_rows_without_chance_are_fixed() {
        // Two rows of squares: nothing is random, and the Braille text has
        // one line per four pixel rows.
        let canvas = schotter(10, 2, 2, &mut Rng::with_seed(1));
        assert_eq!(canvas.width, 20);
        assert_eq!(canvas.height, 20);
        let text = braille(&canvas);
        assert_eq!(text.lines().count(), 5);
        assert!(text.lines().all(|l| l.chars().count() == 10));
    }

    #[test]
    fn skyline_fills_the_canvas() {
        let mut canvas = Canvas::new(30, 10, 3);
        skyline(&mut canvas, &mut Rng::with_seed(7));
        assert!(canvas.pixels.iter().all(|&c| c <= 3));
        assert!(canvas.pixels.contains(&0));
    }
}
